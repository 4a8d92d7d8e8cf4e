// image.ts: a ring-ABI guest's memory image: whether it fits in --mem, and writing it into the guest memfd.
import fs from 'node:fs';
import * as abi from '../abi';
import type { LoadedElf } from '../elf';
import type { GuestAbi } from '../elf/abi';
import { UsageError } from '../errors';
import { native } from '../native';
import type { CheckedOptions } from './options';
import { encodeBootinfo } from './plan';

/**
 * Room a ring-ABI guest needs above its image and ring area: the bindings'
 * 1 MiB stack (SN_STACK_SIZE in guest/bindings/common/bindings.h) less what
 * a small guest never touches. With it `--mem=2` runs hello, blk and net.
 */
export const MIN_FREE_ABOVE_IMAGE = 512 * 1024;

export function checkTarget(elf: LoadedElf, opts: CheckedOptions, kind: GuestAbi): void {
  if (kind.target !== opts.target) {
    throw new UsageError(
      `${elf.file}: built for ${kind.target}, but this tender runs ${opts.target} unikernels (use solo5-${kind.target})`,
    );
  }
  if (kind.kind === 'ring') checkFits(elf, opts, elf.kernelEnd, 0);
}

export function checkFits(elf: LoadedElf, opts: CheckedOptions, end: number, ringsSize: number): void {
  if (end + MIN_FREE_ABOVE_IMAGE > opts.memSize) {
    const need = Math.ceil((end + MIN_FREE_ABOVE_IMAGE) / 1048576);
    const rings = ringsSize > 0 ? ` and its device rings (${Math.ceil(ringsSize / 1024)} KiB)` : '';
    throw new UsageError(
      `mem: ${opts.memSize >> 20} MiB is too small for ${elf.file}: its image${rings} end at ${(end / 1048576).toFixed(1)} MiB and the guest needs ${MIN_FREE_ABOVE_IMAGE >> 10} KiB above them; use --mem=${need} or more`,
    );
  }
}

/** Write segments, command line, manifest and boot info into the guest memfd (offset == guest address). */
export function writeImage(fd: number, elf: LoadedElf, opts: CheckedOptions, mft: Buffer, rings: { addr: number; size: number }): void {
  for (const seg of elf.segments) {
    if (seg.data.length > 0) fs.writeSync(fd, seg.data, 0, seg.data.length, seg.vaddr);
  }
  const cmdline = Buffer.from(`${opts.cmdline}\0`, 'utf8');
  if (cmdline.length > abi.SN_CMDLINE_MAX) {
    throw new UsageError(`command line is ${cmdline.length - 1} bytes, the maximum is ${abi.SN_CMDLINE_MAX - 1}`);
  }
  fs.writeSync(fd, cmdline, 0, cmdline.length, abi.SN_CMDLINE_ADDR);
  fs.writeSync(fd, mft, 0, mft.length, abi.SN_MFT_ADDR);
  const boot = encodeBootinfo({
    target: opts.target,
    memSize: opts.memSize,
    kernelEnd: elf.kernelEnd,
    cmdline: abi.SN_CMDLINE_ADDR,
    mft: abi.SN_MFT_ADDR,
    mftSize: mft.length,
    rings: rings.addr,
    ringsSize: rings.size,
    random: native().getRandom64(),
    // hvt: the helper fills in the TSC frequency and clock bases; the guest holds no fds.
    tscFreq: 0n,
    waitFd: opts.target === 'spt' ? abi.SN_FD_WAIT : -1,
    consoleFd: opts.target === 'spt' ? abi.SN_FD_CONSOLE : -1,
  });
  fs.writeSync(fd, boot, 0, boot.length, abi.SN_BOOTINFO_ADDR);
}
