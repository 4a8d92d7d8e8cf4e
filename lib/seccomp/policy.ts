// policy.ts: seccomp policies as data, and the spt guest's policy.

import { SN_FD_CONSOLE, SN_FD_DOORBELL0, SN_FD_WAIT } from '../abi';
import { UsageError } from '../errors';
import { ARCH_SET_FS, CLOCK_MONOTONIC, CLOCK_REALTIME, type SyscallName } from './syscalls';

/** A 64-bit syscall argument value: a non-negative safe integer or a bigint below 2^64. */
export type ArgValue = number | bigint;

/** Index into seccomp_data.args. */
export type ArgIndex = 0 | 1 | 2 | 3 | 4 | 5;

/** The whole 64-bit argument equals one of `values`. */
export interface ArgIn {
  index: ArgIndex;
  op: 'in';
  values: readonly ArgValue[];
}

/** (argument & mask) equals value, over all 64 bits. */
export interface ArgMasked {
  index: ArgIndex;
  op: 'masked';
  mask: ArgValue;
  value: ArgValue;
}

/** The whole 64-bit argument, read as unsigned, is at most `value` (a block offset inside the capacity). */
export interface ArgLe {
  index: ArgIndex;
  op: 'le';
  value: ArgValue;
}

export type ArgCondition = ArgIn | ArgMasked | ArgLe;

/**
 * One allowed call. Every condition must hold (AND); several rules for the
 * same syscall are alternatives (OR). `why` is mandatory: a rule nobody can
 * justify should not be in a policy.
 */
export interface Rule {
  syscall: SyscallName;
  args?: readonly ArgCondition[];
  why: string;
}

/** An allow-list; anything it does not allow kills the process. */
export interface Policy {
  name: string;
  rules: readonly Rule[];
}

export interface SptGuestPolicyOptions {
  /** Doorbell eventfds passed to the guest, each >= SN_FD_DOORBELL0. */
  doorbellFds: readonly number[];
}

/** Check the doorbell list; they are the only fds beyond console and wait the guest may touch. */
export function checkDoorbellFds(fds: readonly number[]): void {
  if (fds.length % 2 !== 0)
    throw new UsageError(`seccomp spt-guest: doorbellFds has ${fds.length} entries, not (to tender, to guest) pairs`);
  const seen = new Set<number>();
  for (const fd of fds) {
    if (!Number.isSafeInteger(fd) || fd < SN_FD_DOORBELL0 || fd > 0x7fffffff) {
      throw new UsageError(`seccomp spt-guest: doorbellFds entry ${fd} is not an fd >= ${SN_FD_DOORBELL0}`);
    }
    if (seen.has(fd)) throw new UsageError(`seccomp spt-guest: doorbellFds entry ${fd} is repeated`);
    seen.add(fd);
  }
}

/**
 * The spt guest's whole world after the helper jumps to it: print, ring and
 * drain its doorbells, read the clocks, set its TLS base, sleep, and exit.
 * No files, sockets, memory mappings or processes.
 */
export function sptGuestPolicy(opts: SptGuestPolicyOptions): Policy {
  checkDoorbellFds(opts.doorbellFds);
  const rules: Rule[] = [
    {
      syscall: 'write',
      args: [{ index: 0, op: 'in', values: [SN_FD_CONSOLE] }],
      why: 'console output (solo5_console_write) goes to the tender on fd 1',
    },
  ];
  /*
   * Doorbells come in (to tender, to guest) pairs (SN_DOORBELL_TO_* in
   * include/sn_abi.h), and each is used one way only. The size of a write is
   * not constrained: the kernel refuses an eventfd write of anything but 8
   * bytes with EINVAL, which hurts only the guest that made it.
   */
  const toTender = opts.doorbellFds.filter((_, i) => i % 2 === 0);
  const toGuest = opts.doorbellFds.filter((_, i) => i % 2 === 1);
  if (toTender.length > 0) {
    rules.push({
      syscall: 'write',
      args: [{ index: 0, op: 'in', values: toTender }],
      why: 'ring the tender: an eventfd write on a doorbell to the tender after queueing ring entries',
    });
  }
  if (toGuest.length > 0) {
    rules.push({
      syscall: 'read',
      args: [{ index: 0, op: 'in', values: toGuest }],
      why: 'drain a doorbell to the guest after the tender rang it',
    });
  }
  rules.push(
    {
      syscall: 'clock_gettime',
      args: [{ index: 0, op: 'in', values: [CLOCK_REALTIME, CLOCK_MONOTONIC] }],
      why: 'solo5_clock_wall and solo5_clock_monotonic; no other clock is part of the API',
    },
    {
      syscall: 'epoll_pwait2',
      args: [{ index: 0, op: 'in', values: [SN_FD_WAIT] }],
      why: 'solo5_yield sleeps on the helper-made epoll fd with a nanosecond timeout',
    },
    {
      syscall: 'epoll_pwait',
      args: [{ index: 0, op: 'in', values: [SN_FD_WAIT] }],
      why: 'solo5_yield fallback on kernels before 5.11, which lack epoll_pwait2',
    },
    {
      syscall: 'arch_prctl',
      args: [{ index: 0, op: 'in', values: [ARCH_SET_FS] }],
      why: 'solo5_set_tls_base sets %fs; reading it or touching %gs is not needed',
    },
    {
      syscall: 'sched_yield',
      why: 'the spin in solo5_yield gives the CPU away between looks, so a process that shares the CPU runs at once; it takes no arguments',
    },
    {
      syscall: 'exit_group',
      why: "solo5_exit and solo5_abort; the status is the guest's to choose",
    },
  );
  return { name: 'spt-guest', rules };
}
