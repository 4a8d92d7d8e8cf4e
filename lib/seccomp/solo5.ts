// solo5.ts: the seccomp policy of a guest that speaks Solo5's spt ABI: upstream's rules, as data.

import { SN_FD_CONSOLE } from '../abi';
import { UsageError } from '../errors';
import { compilePolicy } from './compile';
import type { Policy, Rule } from './policy';
import { ARCH_SET_FS, CLOCK_MONOTONIC, CLOCK_REALTIME } from './syscalls';

/*
 * Such a guest makes its own device system calls on the host fds named in its
 * manifest copy, so the policy is pinned to those fds, exactly as upstream's
 * solo5-spt pins it (docs/solo5-abi.md; the facts sheet's section 5): the
 * same syscalls, the same argument constraints. Only the default action is
 * stricter: the whole process is killed, which for a one-thread guest is the
 * same SIGSYS death (exit status 159).
 */

export interface Solo5BlockFd {
  fd: number;
  /** Bytes per block; every pread64/pwrite64 must be exactly one block. */
  blockSize: number;
  /** Bytes; the last block starts at capacity - blockSize. */
  capacity: bigint;
}

export interface Solo5GuestPolicyOptions {
  /** The epoll fd and timerfd of the boot info. */
  epollFd: number;
  timerFd: number;
  /** Tap fds and seqpacket socket ends, one per attached net device. */
  netFds: readonly number[];
  blockFds: readonly Solo5BlockFd[];
}

function checkFd(what: string, fd: number): void {
  if (!Number.isSafeInteger(fd) || fd < 3 || fd > 0x7fffffff) {
    throw new UsageError(`seccomp solo5-spt-guest: ${what} ${String(fd)} is not an fd above 2`);
  }
}

/** Upstream solo5-spt's policy for this guest's fds. */
export function solo5GuestPolicy(o: Solo5GuestPolicyOptions): Policy {
  checkFd('epollFd', o.epollFd);
  checkFd('timerFd', o.timerFd);
  o.netFds.forEach((fd) => checkFd('net fd', fd));
  const rules: Rule[] = [
    {
      syscall: 'write',
      args: [{ index: 0, op: 'in', values: [SN_FD_CONSOLE] }],
      why: 'solo5_console_write: the console is fd 1 (the helper puts it there for both ABIs)',
    },
    { syscall: 'exit_group', why: 'solo5_exit and solo5_abort' },
    {
      syscall: 'epoll_pwait',
      args: [{ index: 0, op: 'in', values: [o.epollFd] }],
      why: 'solo5_yield sleeps on the boot info epoll fd until a net fd or the timerfd is ready',
    },
    {
      syscall: 'timerfd_settime',
      args: [{ index: 0, op: 'in', values: [o.timerFd] }],
      why: 'solo5_yield arms the boot info timerfd with the deadline',
    },
    {
      syscall: 'clock_gettime',
      args: [{ index: 0, op: 'in', values: [CLOCK_MONOTONIC, CLOCK_REALTIME] }],
      why: 'solo5_clock_monotonic and solo5_clock_wall',
    },
    {
      syscall: 'arch_prctl',
      args: [{ index: 0, op: 'in', values: [ARCH_SET_FS] }],
      why: 'solo5_set_tls_base, and the bindings reset %fs at start',
    },
  ];
  for (const fd of o.netFds) {
    rules.push(
      { syscall: 'read', args: [{ index: 0, op: 'in', values: [fd] }], why: `solo5_net_read: one frame from net fd ${fd}` },
      { syscall: 'write', args: [{ index: 0, op: 'in', values: [fd] }], why: `solo5_net_write: one frame to net fd ${fd}` },
    );
  }
  for (const b of o.blockFds) {
    checkFd('block fd', b.fd);
    if (!Number.isSafeInteger(b.blockSize) || b.blockSize <= 0 || b.capacity < BigInt(b.blockSize)) {
      throw new UsageError(`seccomp solo5-spt-guest: block fd ${b.fd} has block size ${b.blockSize} and capacity ${b.capacity}`);
    }
    const last = b.capacity - BigInt(b.blockSize);
    for (const syscall of ['pread64', 'pwrite64'] as const) {
      rules.push({
        syscall,
        args: [
          { index: 0, op: 'in', values: [b.fd] },
          { index: 2, op: 'in', values: [b.blockSize] },
          { index: 3, op: 'le', value: last },
        ],
        why: `solo5_block_${syscall === 'pread64' ? 'read' : 'write'}: exactly one block inside the capacity of block fd ${b.fd}`,
      });
    }
  }
  return { name: 'solo5-spt-guest', rules };
}

/** The BPF program the helper installs before jumping to a Solo5-ABI guest. */
export function compileSolo5GuestPolicy(o: Solo5GuestPolicyOptions): Buffer {
  return compilePolicy(solo5GuestPolicy(o));
}
