// devices.ts: match the devices a manifest declares with the ones the user attached.
import fs from 'node:fs';
import type { LoadedElf } from '../elf';
import { DeviceError, UsageError } from '../errors';
import type { TenderLog } from '../log';
import type { CheckedOptions } from './options';

/** Per-device data the tender puts into the guest's manifest copy. */
export interface Attachment {
  block?: { capacity: bigint; blockSize: number };
  net?: { mac: Buffer; mtu: number };
}

export interface AttachedDevices {
  attach: Map<string, Attachment>;
  /** Release host resources (image file descriptors). Idempotent. */
  close(): void;
}

export const MIN_SECTOR_SIZE = 512;
/** The manifest's block_size field is 16 bits wide. */
export const MAX_SECTOR_SIZE = 32768;

/**
 * Every device the manifest declares must be attached, and every attached name
 * must be declared with the matching type; otherwise refuse, naming them all.
 */
export function attachDevices(elf: LoadedElf, opts: CheckedOptions, log: TenderLog): AttachedDevices {
  const declared = new Map(elf.manifest.devices.map((d) => [d.name, d.type]));
  const problems: string[] = [];
  const missing = elf.manifest.devices
    .filter((d) => (d.type === 'BLOCK_BASIC' ? !(d.name in opts.block) : !(d.name in opts.net)))
    .map((d) => `${d.name} (${d.type === 'BLOCK_BASIC' ? `--block:${d.name}=PATH` : `--net:${d.name}=IFACE`})`);
  if (missing.length) problems.push(`not attached: ${missing.join(', ')}`);
  const undeclared = [
    ...Object.keys(opts.block).filter((n) => declared.get(n) !== 'BLOCK_BASIC').map((n) => `--block:${n}`),
    ...Object.keys(opts.net).filter((n) => declared.get(n) !== 'NET_BASIC').map((n) => `--net:${n}`),
  ];
  if (undeclared.length) problems.push(`attached but not declared as that type in the manifest: ${undeclared.join(', ')}`);
  if (problems.length) throw new UsageError(`${elf.file}: devices do not match its manifest: ${problems.join('; ')}`);

  const attach = new Map<string, Attachment>();
  const fds: number[] = [];
  const close = () => {
    for (const fd of fds.splice(0)) fs.closeSync(fd);
  };
  try {
    for (const [name, b] of Object.entries(opts.block)) {
      const { fd, capacity, blockSize } = openBlockImage(name, b.path, b.sectorSize ?? MIN_SECTOR_SIZE);
      fds.push(fd);
      attach.set(name, { block: { capacity, blockSize } });
      log.debug({ device: name, path: b.path, capacity: Number(capacity), blockSize }, 'block device attached');
    }
    for (const name of Object.keys(opts.net)) {
      throw new DeviceError(`net device '${name}': network backends are not available in this version`);
    }
  } catch (e) {
    close();
    throw e;
  }
  return { attach, close };
}

/** Open a raw image and derive its capacity; every refusal names the device and the file. */
export function openBlockImage(name: string, path: string, sectorSize: number): { fd: number; capacity: bigint; blockSize: number } {
  if (!Number.isInteger(sectorSize) || sectorSize < MIN_SECTOR_SIZE || sectorSize > MAX_SECTOR_SIZE || (sectorSize & (sectorSize - 1)) !== 0) {
    throw new DeviceError(
      `block device '${name}': sector size ${String(sectorSize)} must be a power of two from ${MIN_SECTOR_SIZE} to ${MAX_SECTOR_SIZE}`,
    );
  }
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDWR);
  } catch (e) {
    throw new DeviceError(`block device '${name}': cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    if (!st.isFile()) throw new DeviceError(`block device '${name}': ${path} is not a regular file`);
    const size = st.size;
    if (size < BigInt(sectorSize)) {
      throw new DeviceError(`block device '${name}': ${path} is ${size} bytes, smaller than one ${sectorSize}-byte block`);
    }
    if (size % BigInt(sectorSize) !== 0n) {
      throw new DeviceError(`block device '${name}': ${path} is ${size} bytes, not a multiple of the ${sectorSize}-byte block size`);
    }
    return { fd, capacity: size, blockSize: sectorSize };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}
