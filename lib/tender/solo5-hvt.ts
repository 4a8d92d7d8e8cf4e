// solo5-hvt.ts: what launching a guest of upstream Solo5's hvt ABI needs: memory size, boot info, image, helper policy.
import * as abi from '../abi';
import { UsageError } from '../errors';
import type { LoadedElf } from '../elf';
import { compileHvtSolo5HelperPolicy, type HvtSolo5HelperPolicyOptions } from '../seccomp/hvt';
import type { GuestFd } from './devices';
import { guestFdOf, writeSolo5Layout } from './solo5';

/*
 * Such a guest (built by upstream Solo5's toolchain for hvt, any release
 * from 0.6, or by `solo5-build --abi=solo5 --target=hvt`) expects upstream's
 * boot protocol (include/sn_solo5_hvt.h, docs/hvt.md): guest RAM from
 * physical 0, a 56-byte boot info at 0x10000 followed by the manifest copy
 * and the command line, %rsp = mem_size - 8. The helper adds the page
 * tables, GDT, CPU state and TSC frequency, and serves the hypercalls.
 */

const MAX = abi.SN_SOLO5_HVT_MEM_MAX;
const PAGE_2M = abi.SN_SOLO5_HVT_PAGE_2M;

/** Guest memory as upstream's tender sizes it: what the guest sees, and what is allocated (plus a net ring's area). */
export interface Solo5HvtMemory {
  /** boot info mem_size: the top of the guest's stack; hypercalls may name nothing above it. */
  visible: number;
  /** The memfd and the KVM memory slot. */
  alloc: number;
  /** upstream's warning when --mem was not a whole number of 2 MiB pages ("adjusting memory to N bytes"). */
  adjusted?: string;
}

/**
 * Round the request down to 2 MiB (0 becomes 2 MiB), refuse more than 4 GiB,
 * and with a net device reserve 2 MiB at the top for the 0.11 net ring
 * (reserved even while no ring is offered, as upstream does), the total
 * rounded to 2 MiB and clamped to 4 GiB.
 */
export function solo5HvtMemory(requested: number, hasNet: boolean): Solo5HvtMemory {
  let size = Math.floor(requested / PAGE_2M) * PAGE_2M;
  if (size === 0) size = PAGE_2M;
  const adjusted = size !== requested ? `adjusting memory to ${size} bytes` : undefined;
  if (size > MAX) throw new UsageError(`guest memory size ${size} bytes exceeds the max size ${MAX} bytes`);
  if (!hasNet) return { visible: size, alloc: size, adjusted };
  const alloc = Math.min(Math.ceil((size + abi.SN_SOLO5_HVT_RING_AREA) / PAGE_2M) * PAGE_2M, MAX);
  const visible = alloc - abi.SN_SOLO5_HVT_RING_AREA;
  if (visible < PAGE_2M) throw new UsageError(`guest memory size ${size} bytes leaves no room beside the net ring's 2 MiB`);
  return { visible, alloc, adjusted };
}

/** struct sn_solo5_hvt_boot_info (56 bytes); cpu_cycle_freq is the helper's to fill in; netRing 0: no ring offered. */
export function encodeSolo5HvtBootInfo(b: { memSize: number; kernelEnd: number; cmdline: number; netRing?: number }): Buffer {
  const o = abi.SN_SOLO5_HVT_BOOT_INFO_LAYOUT.offsets;
  const buf = Buffer.alloc(abi.SN_SOLO5_HVT_BOOT_INFO_LAYOUT.size);
  buf.writeBigUInt64LE(BigInt(b.memSize), o.mem_size);
  buf.writeBigUInt64LE(BigInt(b.kernelEnd), o.kernel_end);
  buf.writeBigUInt64LE(BigInt(b.cmdline), o.cmdline);
  buf.writeBigUInt64LE(BigInt(abi.SN_SOLO5_HVT_MFT_ADDR), o.mft);
  // The net ring, when the broker serves one (lib/tender/hvtring.ts); guests before 0.11 never read these.
  if (b.netRing) {
    buf.writeUInt32LE(abi.SN_SOLO5_HVT_FEATURE_RING_IO, o.host_features);
    buf.writeBigUInt64LE(BigInt(b.netRing), o.net_ring);
  }
  return buf;
}

/** Write segments, boot info, manifest copy and command line into the guest memfd (offset == guest address). */
export function writeSolo5HvtImage(fd: number, elf: LoadedElf, visible: number, mft: Buffer, cmdline: string, netRing = 0): void {
  const at = { boot: abi.SN_SOLO5_HVT_BOOT_INFO, mft: abi.SN_SOLO5_HVT_MFT_ADDR };
  writeSolo5Layout(fd, elf, at, mft, cmdline, (cmdlineAddr) =>
    encodeSolo5HvtBootInfo({ memSize: visible, kernelEnd: elf.solo5KernelEnd, cmdline: cmdlineAddr, netRing }),
  );
}

/** The policy's inputs: the device fds by kind. */
export function solo5HvtPolicyOptions(fds: readonly GuestFd[]): HvtSolo5HelperPolicyOptions {
  const blockFds: number[] = [];
  const netFds: number[] = [];
  fds.forEach((d, i) => (d.kind === 'net' ? netFds : blockFds).push(guestFdOf(i)));
  return { ndevfds: fds.length, blockFds, netFds };
}

/** The helper's seccomp program, pinned to these device fds. */
export function solo5HvtPolicy(fds: readonly GuestFd[]): Buffer {
  return compileHvtSolo5HelperPolicy(solo5HvtPolicyOptions(fds));
}
