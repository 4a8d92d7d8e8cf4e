// mkimage.ts: writes an MBR-partitioned raw disk image that boots a virtio unikernel through syslinux, with mtools: no root, no loop device.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostError, UsageError } from '../errors';
import { readVirtioKernel } from './run';

/** Where Debian's syslinux and syslinux-common put the MBR code and the BIOS modules. */
export const SYSLINUX_MBR = '/usr/lib/syslinux/mbr/mbr.bin';
export const SYSLINUX_MODULES = '/usr/lib/syslinux/modules/bios';
const MODULES = ['mboot.c32', 'libcom32.c32'];
const SECTOR = 512;
/** The partition starts at 1 MiB, as partitioning tools align it today. */
export const PART_START = 2048;
const PART_OFFSET = PART_START * SECTOR;
const FAT12_MAX_CLUSTERS = 4084;

/**
 * The partition's size in sectors: the kernel, the boot loader's files and
 * room to spare, in whole MiB, at least 8 MiB.
 */
export function partitionSectors(kernelBytes: number): number {
  const mib = Math.max(8, Math.ceil((kernelBytes * 1.25 + (1 << 20)) / (1 << 20)));
  return mib * 2048;
}

/** Sectors per cluster keeping the FAT a FAT12 one (syslinux checks that the count fits the type). */
export function clusterSectors(sectors: number): number {
  let c = 1;
  while (sectors / c > FAT12_MAX_CLUSTERS - 100 && c < 128) c *= 2;
  if (sectors / c > FAT12_MAX_CLUSTERS - 100) throw new UsageError(`a ${sectors * SECTOR}-byte kernel is too large for the image`);
  return c;
}

/** The MBR: syslinux's boot code, one active FAT12 partition (type 0x01) from PART_START, the signature. */
export function mbr(code: Buffer, sectors: number): Buffer {
  const b = Buffer.alloc(SECTOR);
  code.copy(b, 0, 0, Math.min(code.length, 440));
  const e = 446;
  b[e] = 0x80;
  b.set([0xfe, 0xff, 0xff], e + 1); // CHS fields unused: LBA only
  b[e + 4] = 0x01;
  b.set([0xfe, 0xff, 0xff], e + 5);
  b.writeUInt32LE(PART_START, e + 8);
  b.writeUInt32LE(sectors, e + 12);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** syslinux.cfg: boot the kernel through mboot.c32 at once, with its command line. */
export function syslinuxConfig(args: string[]): string {
  for (const a of args) {
    if (/[\n\r\0]/.test(a)) throw new UsageError('a newline or NUL cannot be in the command line');
    if (a === '---') throw new UsageError("'---' cannot be an argument (mboot.c32 takes it for a module separator)");
  }
  return ['DEFAULT unikernel', 'LABEL unikernel', '  KERNEL mboot.c32', `  APPEND kernel${args.map((a) => ` ${a}`).join('')}`, ''].join(
    '\n',
  );
}

function tool(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { PATH: process.env.PATH, MTOOLS_SKIP_CHECK: '1' } }, (err, _out, stderr) => {
      if (!err) return resolve();
      if (typeof err.code === 'string') {
        return reject(new HostError(`cannot run ${cmd}: ${err.code} (Debian: apt-get install mtools syslinux syslinux-common)`));
      }
      const line = stderr.split('\n').find((l) => l.trim() !== '') ?? `exit status ${String(err.code)}`;
      reject(new HostError(`${cmd} failed: ${line.trim()}`));
    });
  });
}

/** Writes IMAGE: the MBR, then a FAT partition with syslinux, mboot.c32, the kernel and its command line. */
export async function makeImage(image: string, kernel: string, args: string[]): Promise<void> {
  readVirtioKernel(kernel);
  const cfg = syslinuxConfig(args);
  for (const f of [SYSLINUX_MBR, ...MODULES.map((m) => path.join(SYSLINUX_MODULES, m))]) {
    if (!fs.existsSync(f)) throw new HostError(`${f} is missing (Debian: apt-get install syslinux syslinux-common)`);
  }
  const sectors = partitionSectors(fs.statSync(kernel).size);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-mkimage-'));
  const partial = path.join(path.dirname(path.resolve(image)), `.${path.basename(image)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(partial, mbr(fs.readFileSync(SYSLINUX_MBR), sectors));
    fs.truncateSync(partial, PART_OFFSET + sectors * SECTOR);
    const part = `${partial}@@${PART_OFFSET}`;
    await tool(
      'mformat',
      ['-i', part, '-T', String(sectors), '-h', '64', '-s', '32', '-H', String(PART_START)].concat([
        '-c',
        String(clusterSectors(sectors)),
        '-v',
        'SOLO5',
        '::',
      ]),
    );
    await tool('syslinux', ['--offset', String(PART_OFFSET), '--install', partial]);
    const cfgFile = path.join(tmp, 'syslinux.cfg');
    fs.writeFileSync(cfgFile, cfg);
    await tool('mcopy', ['-i', part, kernel, '::kernel']);
    await tool('mcopy', ['-i', part, cfgFile, ...MODULES.map((m) => path.join(SYSLINUX_MODULES, m)), '::']);
    fs.renameSync(partial, image);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(partial, { force: true });
  }
}
