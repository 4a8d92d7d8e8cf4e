// solo5.ts: what launching a guest of Solo5's own spt ABI needs: its boot info, host fds and seccomp policy.
import fs from 'node:fs';
import * as abi from '../abi';
import { UsageError } from '../errors';
import type { LoadedElf } from '../elf';
import { compileSolo5GuestPolicy, type Solo5BlockFd } from '../seccomp/solo5';
import type { GuestFd } from './devices';

/*
 * Such a guest (built by upstream Solo5's toolchain or by `solo5-build
 * --abi=solo5`) expects upstream's boot protocol (docs/solo5-abi.md): memory
 * from 0x10000, a 40-byte boot info at 0x11000, the manifest copy right after
 * it with each device's host fd, the command line after that, %rsp =
 * mem_size - 8, %rdi = the boot info. It makes its own device system calls:
 * pread64/pwrite64 on an image fd, read/write on a tap fd or a seqpacket
 * socket the broker serves, epoll_pwait on the boot info's epoll fd.
 */

/** The fd number the guest finds device `i` (in manifest order) at. */
export const guestFdOf = (i: number): number => abi.SN_FD_DEV0 + i;

/** struct spt_boot_info (40 bytes), as upstream's tender writes it at 0x11000. */
export function encodeSolo5BootInfo(b: { memSize: number; kernelEnd: number; cmdline: number; epollFd: number; timerFd: number }): Buffer {
  const o = abi.SN_SOLO5_BOOT_INFO.offsets;
  const buf = Buffer.alloc(abi.SN_SOLO5_BOOT_INFO.size);
  buf.writeBigUInt64LE(BigInt(b.memSize), o.mem_size);
  buf.writeBigUInt64LE(BigInt(b.kernelEnd), o.kernel_end);
  buf.writeBigUInt64LE(BigInt(b.cmdline), o.cmdline);
  buf.writeBigUInt64LE(BigInt(abi.SN_SOLO5_MFT_ADDR), o.mft);
  buf.writeInt32LE(b.epollFd, o.epollfd);
  buf.writeInt32LE(b.timerFd, o.timerfd);
  return buf;
}

/** The command line's bytes with its NUL; refused past upstream's 8191 characters. */
export function solo5Cmdline(cmdline: string): Buffer {
  const bytes = Buffer.from(`${cmdline}\0`, 'utf8');
  if (bytes.length > abi.SN_SOLO5_CMDLINE_SIZE) {
    throw new UsageError(`command line is ${bytes.length - 1} bytes, the maximum is ${abi.SN_SOLO5_CMDLINE_SIZE - 1}`);
  }
  return bytes;
}

/**
 * Upstream's image, on spt and hvt alike: the file-backed segments at their
 * addresses, the boot info at `bootAt`, the manifest copy right after it
 * (`mftAt`), the command line after that (offset == guest address).
 */
export function writeSolo5Layout(
  fd: number,
  elf: LoadedElf,
  at: { boot: number; mft: number },
  mft: Buffer,
  cmdline: string,
  bootInfo: (cmdlineAddr: number) => Buffer,
): void {
  const line = solo5Cmdline(cmdline);
  for (const seg of elf.segments) {
    if (seg.data.length > 0) fs.writeSync(fd, seg.data, 0, seg.data.length, seg.vaddr);
  }
  const cmdlineAddr = at.mft + mft.length;
  const boot = bootInfo(cmdlineAddr);
  fs.writeSync(fd, boot, 0, boot.length, at.boot);
  fs.writeSync(fd, mft, 0, mft.length, at.mft);
  fs.writeSync(fd, line, 0, line.length, cmdlineAddr);
}

/** Write segments, boot info, manifest copy and command line into the guest memfd (offset == guest address). */
export function writeSolo5Image(fd: number, elf: LoadedElf, memSize: number, mft: Buffer, cmdline: string): void {
  const at = { boot: abi.SN_SOLO5_BOOT_INFO_BASE, mft: abi.SN_SOLO5_MFT_ADDR };
  writeSolo5Layout(fd, elf, at, mft, cmdline, (cmdlineAddr) =>
    encodeSolo5BootInfo({
      memSize,
      kernelEnd: elf.solo5KernelEnd,
      cmdline: cmdlineAddr,
      epollFd: abi.SN_FD_SOLO5_EPOLL,
      timerFd: abi.SN_FD_SOLO5_TIMER,
    }),
  );
}

/** The seccomp program pinned to these fds, as upstream's tender builds it. */
export function solo5Policy(fds: readonly GuestFd[]): Buffer {
  const blockFds: Solo5BlockFd[] = [];
  const netFds: number[] = [];
  fds.forEach((d, i) => {
    if (d.kind === 'net') netFds.push(guestFdOf(i));
    else if (d.block) blockFds.push({ fd: guestFdOf(i), blockSize: d.block.blockSize, capacity: d.block.capacity });
  });
  return compileSolo5GuestPolicy({ epollFd: abi.SN_FD_SOLO5_EPOLL, timerFd: abi.SN_FD_SOLO5_TIMER, netFds, blockFds });
}

/** For the plan: the manifest index each device fd joins the epoll set with, 0 for block fds. */
export const solo5DevEpoll = (fds: readonly GuestFd[]): number[] => fds.map((d) => (d.kind === 'net' ? d.index : 0));
