// devices.ts: match the devices a manifest declares with the ones attached, and open their backends.
import fs from 'node:fs';
import * as abi from '../abi';
import type { LoadedElf } from '../elf';
import { errnoWords, lastErrnoWords } from '../errno';
import { DeviceError, optionRefused, UsageError, upstreamSays } from '../errors';
import type { TenderLog } from '../log';
import { native, type DeviceConfig } from '../native';
import { parseMac, randomMac } from '../net/mac';
import { startPasst, type PasstProcess } from '../net/passt';
import { checkPasstAttach } from '../net/passt-args';
import type { CheckedOptions, NetAttach } from './options';
import { quote } from '../quote';

/** Per-device data the tender puts into the guest's manifest copy. */
export interface Attachment {
  block?: { capacity: bigint; blockSize: number };
  net?: { mac: Buffer; mtu: number };
  /** Solo5 ABI: the fd the guest holds for the device (SN_FD_DEV0 + its place in guestFds). */
  hostfd?: number;
}

/** A host fd a Solo5-ABI guest holds for one device (upstream's `hostfd`). */
export interface GuestFd {
  /** Manifest index (entry 0 is the reserved one). */
  index: number;
  fd: number;
  kind: 'block' | 'net';
  block?: { blockSize: number; capacity: bigint };
}

export interface AttachedDevices {
  attach: Map<string, Attachment>;
  /** What the native broker needs to serve each device (empty: no broker). */
  configs: DeviceConfig[];
  /** Solo5 ABI: every device's fd for the guest, in manifest order (empty for the ring ABI). */
  guestFds: GuestFd[];
  /** The passt started for each device attached with `passt` (by device name). */
  passt: Map<string, PasstProcess>;
  /** Release host resources (image and tap file descriptors, pcap files, socket ends, passt). Idempotent. */
  close(): void;
  /**
   * Once the guest holds its own copies: close the tender's copies of the fds
   * only the guest uses (Solo5 ABI), so that the guest's exit closes them.
   */
  closeGuestFds(): void;
}

/** How the guest reaches its devices: through rings the broker serves, or on host fds (Solo5's ABI). */
export type DeviceAbi = 'ring' | 'solo5';

/**
 * Every device the manifest declares must be attached, and every attached name
 * must be declared with the matching type; otherwise refuse, naming them all.
 */
export function attachDevices(elf: LoadedElf, opts: CheckedOptions, log: TenderLog, deviceAbi: DeviceAbi = 'ring'): AttachedDevices {
  checkNames(elf, opts);
  const attach = new Map<string, Attachment>();
  const configs: DeviceConfig[] = [];
  const guestFds: GuestFd[] = [];
  const fds: number[] = [];
  const passt = new Map<string, PasstProcess>();
  const close = () => {
    for (const p of passt.values()) p.stop();
    for (const fd of fds.splice(0)) fs.closeSync(fd);
  };
  try {
    elf.manifest.devices.forEach((d, i) => {
      const index = i + 1; // entry 0 of the MFT1 note is the reserved one
      if (d.type === 'BLOCK_BASIC') {
        const b = opts.block.get(d.name)!;
        const img = openBlockImage(d.name, b.path, b.sectorSize ?? abi.SN_BLOCK_SIZE_MIN);
        fds.push(img.fd);
        const block = { capacity: img.capacity, blockSize: img.blockSize };
        // Solo5 ABI: the guest does its own pread64/pwrite64 on the image, as under upstream's tender.
        if (deviceAbi === 'solo5') {
          attach.set(d.name, { block, hostfd: abi.SN_FD_DEV0 + guestFds.length });
          guestFds.push({ index, fd: img.fd, kind: 'block', block });
        } else {
          attach.set(d.name, { block });
          configs.push({ index, name: d.name, kind: 'block', fd: img.fd, capacity: Number(img.capacity), blockSize: img.blockSize });
        }
        log.debug({ device: d.name, path: b.path, capacity: Number(img.capacity), blockSize: img.blockSize }, 'block device attached');
      } else {
        const n = opts.net.get(d.name)!;
        const mac = n.mac !== undefined ? parseMac(n.mac) : randomMac();
        const backend = n.passt !== undefined ? openPasstBackend(d.name, n, opts, fds, passt) : openNetBackend(d.name, n, fds);
        let pcapFd: number | undefined;
        if (n.pcap !== undefined) {
          try {
            pcapFd = fs.openSync(n.pcap, 'w');
          } catch (e) {
            throw new DeviceError(
              `net device '${d.name}': cannot create pcap file ${n.pcap}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
            );
          }
          fds.push(pcapFd);
        }
        const net = { mac, mtu: backend.mtu };
        attach.set(d.name, deviceAbi === 'solo5' ? { net, hostfd: abi.SN_FD_DEV0 + guestFds.length } : { net });
        const config: DeviceConfig = { index, name: d.name, kind: 'net', mtu: backend.mtu, mac, backend: backend.config, pcapFd };
        if (deviceAbi === 'solo5' && backend.config.type === 'tap' && pcapFd === undefined) {
          // A plain tap is handed over: one frame per read/write, as upstream's tender does it.
          guestFds.push({ index, fd: backend.config.fd, kind: 'net' });
        } else if (deviceAbi === 'solo5') {
          const [tenderEnd, guestEnd] = seqpacketPair(d.name);
          fds.push(tenderEnd, guestEnd);
          guestFds.push({ index, fd: guestEnd, kind: 'net' });
          configs.push({ ...config, guestSocketFd: tenderEnd });
        } else {
          configs.push(config);
        }
        log.debug({ device: d.name, mtu: backend.mtu, backend: backend.config.type }, 'net device attached');
      }
    });
  } catch (e) {
    close();
    throw e;
  }
  const closeGuestFds = () => {
    for (const g of guestFds) {
      const i = fds.indexOf(g.fd);
      // An inherited tap (@FD) is not the tender's to close.
      if (i < 0) continue;
      fds.splice(i, 1);
      fs.closeSync(g.fd);
    }
  };
  return { attach, configs, guestFds, passt, close, closeGuestFds };
}

/**
 * A passt device: passt gets one end of a stream socket pair as its --fd and
 * the broker relays frames on the other; the guest's MTU (STREAM_MTU) is
 * also what passt offers by DHCP. The tender closes passt's end at
 * once, so that passt's exit is an end of stream for the broker, and passt
 * sees the tender's end close (and exits) however the tender ends.
 */
function openPasstBackend(name: string, n: NetAttach, opts: CheckedOptions, fds: number[], passt: Map<string, PasstProcess>): NetBackend {
  const others = (['iface', 'switch', 'unix'] as const).filter((k) => n[k] !== undefined);
  if (others.length) throw new UsageError(`net device '${quote(name)}': give one of passt or ${others.join(', ')}, not both`);
  const { forwards } = checkPasstAttach(`net.${name}.passt`, n.passt);
  let pair: [number, number];
  try {
    pair = native().socketpairStream();
  } catch (e) {
    throw new DeviceError(`net device '${quote(name)}': ${(e as Error).message}`);
  }
  const [tenderEnd, passtEnd] = pair;
  fds.push(tenderEnd);
  try {
    passt.set(name, startPasst({ device: name, fd: passtEnd, mtu: STREAM_MTU, forwards, runas: opts.ids }));
  } finally {
    fs.closeSync(passtEnd);
  }
  return { mtu: STREAM_MTU, config: { type: 'stream', fd: tenderEnd } };
}

/**
 * The socket a Solo5-ABI guest reads and writes frames on, whose other end
 * the broker serves; with it every brokered backend (switch, pcap, endpoints)
 * works for such guests.
 */
function seqpacketPair(name: string): [number, number] {
  try {
    return native().socketpairSeqpacket();
  } catch (e) {
    throw new DeviceError(`net device '${quote(name)}': ${(e as Error).message}`);
  }
}

function checkNames(elf: LoadedElf, opts: CheckedOptions): void {
  const declared = new Map(elf.manifest.devices.map((d) => [d.name, d.type]));
  const problems: string[] = [];
  const missing = elf.manifest.devices
    .filter((d) => (d.type === 'BLOCK_BASIC' ? !opts.block.has(d.name) : !opts.net.has(d.name)))
    .map((d) => `${d.name} (${d.type === 'BLOCK_BASIC' ? `--block:${d.name}=PATH` : `--net:${d.name}=IFACE`})`);
  if (missing.length) problems.push(`not attached: ${missing.join(', ')}`);
  const undeclaredBlock = [...opts.block.keys()].filter((n) => declared.get(n) !== 'BLOCK_BASIC');
  const undeclaredNet = [...opts.net.keys()].filter((n) => declared.get(n) !== 'NET_BASIC');
  const undeclared = [...undeclaredBlock.map((n) => `--block:${n}`), ...undeclaredNet.map((n) => `--net:${n}`)];
  if (undeclared.length) problems.push(`attached but not declared as that type in the manifest: ${undeclared.join(', ')}`);
  if (!problems.length) return;
  const e = new UsageError(`${elf.file}: devices do not match its manifest: ${problems.join('; ')}`);
  // Upstream's tender meets an undeclared name while parsing options, before it looks for missing ones.
  const first = [...undeclaredBlock.map((n) => ['block', n]), ...undeclaredNet.map((n) => ['net', n])][0];
  if (first !== undefined) throw optionRefused(e, `Resource not declared in manifest: '${quote(first[1])}'`, `--${first[0]}:${first[1]}`);
  const lines = elf.manifest.devices
    .filter((d) => (d.type === 'BLOCK_BASIC' ? !opts.block.has(d.name) : !opts.net.has(d.name)))
    .map((d) => `Device '${quote(d.name)}' of type ${d.type} declared but not attached.`);
  throw upstreamSays(e, [...lines, 'All declared devices must be attached. See --help for syntax.'].join('\n'));
}

/** The MTU of a stream backend: the framing carries none, and QEMU's and passt's guests default to it. */
export const STREAM_MTU = 1500;

type NetBackend = { mtu: number; config: Extract<DeviceConfig, { kind: 'net' }>['backend'] };

function openNetBackend(name: string, n: NetAttach, fds: number[]): NetBackend {
  const { iface, switch: sw, unix } = n;
  if ([iface, sw, unix].filter((v) => v !== undefined).length !== 1) {
    throw new UsageError(`net device '${quote(name)}': give exactly one of a tap interface, a switch or a unix socket path`);
  }
  if (sw !== undefined) return { mtu: sw.mtu, config: { type: 'switch', switchId: sw.id } };
  if (unix !== undefined) {
    const fd = connectStream(name, unix);
    fds.push(fd);
    return { mtu: STREAM_MTU, config: { type: 'stream', fd } };
  }
  const at = /^@([0-9]+)$/.exec(iface!);
  try {
    if (at) {
      const fd = Number(at[1]);
      const { mtu } = native().tapFromFd(fd);
      return { mtu, config: { type: 'tap', fd } };
    }
    const { fd, mtu } = native().openTap(iface!);
    fds.push(fd);
    return { mtu, config: { type: 'tap', fd } };
  } catch (e) {
    const message = (e as Error).message;
    const err = new DeviceError(`net device '${quote(name)}': ${message}`);
    // The addon says "no such interface" where upstream's getifaddrs check says ENOENT.
    const words = lastErrnoWords(message, / no such interface$/.test(message) ? 'ENOENT' : undefined);
    throw optionRefused(err, `Could not attach interface: ${quote(iface!)}: ${words}`, `--net:${name}`);
  }
}

const CONNECT_REASONS: Record<string, string> = {
  ENOENT: 'no such socket',
  ECONNREFUSED: 'nothing listens there',
  EACCES: 'permission denied',
  ENOTSOCK: 'not a socket',
  ENOTDIR: 'a path component is not a directory',
  ENAMETOOLONG: 'path too long for a unix socket',
  EPROTOTYPE: 'not a stream socket',
};

/** Connect a device to a framed-stream listener; the failure names the device and the path. */
export function connectStream(name: string, path: string): number {
  try {
    return native().unixConnect(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const why = CONNECT_REASONS[code] ?? (e as Error).message;
    throw new DeviceError(`net device '${quote(name)}': unix:${path}: cannot connect: ${why}`);
  }
}

/** Upstream's words for a --block-sector-size that is not a power of two from 512. */
export const BLOCK_SIZE_WORDS = 'Block size must be a multiple of 2 greater than or equal 512';

/** Open a raw image and derive its capacity; every refusal names the device and the file. */
export function openBlockImage(name: string, path: string, sectorSize: number): { fd: number; capacity: bigint; blockSize: number } {
  if (!abi.isBlockSize(sectorSize)) {
    const e = new DeviceError(
      `block device '${name}': sector size ${String(sectorSize)} must be a power of two from ${abi.SN_BLOCK_SIZE_MIN} to ${abi.SN_BLOCK_SIZE_MAX}`,
    );
    throw optionRefused(e, BLOCK_SIZE_WORDS, `--block-sector-size:${name}`);
  }
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDWR);
  } catch (e) {
    const err = new DeviceError(`block device '${quote(name)}': cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    throw upstreamSays(err, `Could not open block device: ${path}: ${errnoWords(e)}`);
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    if (!st.isFile()) throw new DeviceError(`block device '${quote(name)}': ${path} is not a regular file`);
    const size = st.size;
    // Upstream's order: a 256-byte image is misaligned, only an empty one too small.
    if (size % BigInt(sectorSize) !== 0n) {
      const e = new DeviceError(
        `block device '${quote(name)}': ${path} is ${size} bytes, not a multiple of the ${sectorSize}-byte block size`,
      );
      throw upstreamSays(e, `${quote(name)}: Backing storage size must be block aligned (${sectorSize} bytes)`);
    }
    if (size < BigInt(sectorSize)) {
      const e = new DeviceError(`block device '${quote(name)}': ${path} is ${size} bytes, smaller than one ${sectorSize}-byte block`);
      throw upstreamSays(e, `${quote(name)}: Backing storage must be at least 1 block (${sectorSize} bytes) in size`);
    }
    return { fd, capacity: size, blockSize: sectorSize };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}
