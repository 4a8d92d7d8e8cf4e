// hvt.ts: the seccomp policy the hvt helper confines itself with once its VM is set up.

import { UsageError } from '../errors';
import * as abi from '../abi';
import { compilePolicy } from './compile';
import type { Policy, Rule } from './policy';
import { precompiled } from './precompiled';

/*
 * On hvt the guest cannot make system calls at all (it runs in a VM; a
 * `syscall` instruction is #UD there). What remains to confine is the
 * helper's own run loop (addon/helper/helper_hvt_loop.c): from the moment it
 * installs this filter, after KVM set-up and before the first KVM_RUN, it
 * may only run the vCPU, serve the guest's hypercalls and exit. Even a guest
 * that found a bug in the helper's hypercall handling would hold a process
 * that can do no more than that.
 */

/* From linux/kvm.h; test/seccomp-hvt.test.ts compares them with the header. */
/** _IO(KVMIO = 0xAE, 0x80) */
export const KVM_RUN = 0xae80;
/** _IOW(KVMIO, 0x89, struct kvm_msrs), struct kvm_msrs being 8 bytes */
export const KVM_SET_MSRS = 0x4008ae89;

export interface HvtHelperPolicyOptions {
  /** Doorbell eventfds handed to the helper from SN_FD_DOORBELL0, in (to tender, to guest) pairs. */
  ndoorbells: number;
}

function checkDoorbells(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > abi.HELPER_MAX_DOORBELLS || n % 2 !== 0) {
    throw new UsageError(`seccomp hvt-helper: ndoorbells ${n} is not an even count from 0 to ${abi.HELPER_MAX_DOORBELLS}`);
  }
}

/** The hvt helper's whole world after set-up, pinned to its fds (SN_FD_* in include/sn_abi.h). */
export function hvtHelperPolicy(opts: HvtHelperPolicyOptions): Policy {
  checkDoorbells(opts.ndoorbells);
  const toTender: number[] = [];
  const toGuest: number[] = [];
  for (let i = 0; i < opts.ndoorbells; i++) {
    (i % 2 === abi.SN_DOORBELL_TO_TENDER ? toTender : toGuest).push(abi.SN_FD_DOORBELL0 + i);
  }
  const rules: Rule[] = [
    {
      syscall: 'ioctl',
      args: [
        { index: 0, op: 'in', values: [abi.SN_FD_VCPU] },
        { index: 1, op: 'in', values: [KVM_RUN] },
        { index: 2, op: 'in', values: [0] },
      ],
      why: 'run the vCPU; no other KVM ioctl (no register, memory or VM changes) after set-up',
    },
    {
      syscall: 'ioctl',
      args: [
        { index: 0, op: 'in', values: [abi.SN_FD_VCPU] },
        { index: 1, op: 'in', values: [KVM_SET_MSRS] },
      ],
      why: "the TLS hypercall sets the guest's own FS base MSR (the helper builds the request, always MSR_FS_BASE)",
    },
    {
      syscall: 'write',
      args: [{ index: 0, op: 'in', values: [abi.SN_FD_CONSOLE] }],
      why: 'the console hypercall, and the ABORT line when the guest breaks the protocol, go to fd 1',
    },
  ];
  if (opts.ndoorbells > 0) {
    rules.push(
      {
        syscall: 'write',
        args: [{ index: 0, op: 'in', values: toTender }],
        why: 'the kick hypercall rings the tender: an eventfd write on the doorbell to the tender',
      },
      {
        syscall: 'read',
        args: [{ index: 0, op: 'in', values: toGuest }],
        why: 'the wait hypercall drains the doorbell to the guest after the tender rang it',
      },
    );
  }
  rules.push(
    {
      syscall: 'epoll_pwait2',
      args: [{ index: 0, op: 'in', values: [abi.SN_FD_WAIT] }],
      why: 'the wait hypercall sleeps on the wait epoll with a nanosecond timeout',
    },
    {
      syscall: 'epoll_pwait',
      args: [{ index: 0, op: 'in', values: [abi.SN_FD_WAIT] }],
      why: 'the wait hypercall on kernels before 5.11, which lack epoll_pwait2',
    },
    {
      syscall: 'exit_group',
      why: "the exit hypercall (the status is the guest's) and the abort path (255)",
    },
  );
  return { name: 'hvt-helper', rules };
}

/*
 * Compiled on every hvt launch with the doorbell count as its only input,
 * so each count's program is kept; callers get a copy they may write into a
 * plan.
 */
const cache = new Map<number, Buffer>();

/** The BPF program (struct sock_filter[], 8 bytes each) the hvt helper installs before its first KVM_RUN. */
export function compileHvtHelperPolicy(opts: HvtHelperPolicyOptions): Buffer {
  checkDoorbells(opts.ndoorbells);
  let prog = cache.get(opts.ndoorbells);
  if (prog === undefined) {
    const policy = hvtHelperPolicy(opts);
    prog = precompiled(`hvt:${opts.ndoorbells}`, policy) ?? compilePolicy(policy);
    cache.set(opts.ndoorbells, prog);
  }
  return Buffer.from(prog);
}

/** _IOR(KVMIO, 0x81, struct kvm_regs), struct kvm_regs being 144 bytes: a run-time failure line names the guest's %rip. */
export const KVM_GET_REGS = 0x8090ae81;
/** CLOCK_REALTIME (linux/time.h). */
const CLOCK_REALTIME = 0;

export interface HvtSolo5HelperPolicyOptions {
  /** Host fds from SN_FD_DEV0, in plan order: the vCPU follows them (SN_SOLO5_HVT_FD_VCPU). */
  ndevfds: number;
  /** Which of them are block images (pread64/pwrite64) and which taps or sockets (read/write). */
  blockFds: readonly number[];
  netFds: readonly number[];
}

function checkDevFds(o: HvtSolo5HelperPolicyOptions): void {
  const n = o.ndevfds;
  if (!Number.isInteger(n) || n < 0 || n > abi.SN_MFT_MAX_ENTRIES - 1)
    throw new UsageError(`seccomp hvt-solo5-helper: ndevfds ${n} is out of range 0 to ${abi.SN_MFT_MAX_ENTRIES - 1}`);
  for (const fd of [...o.blockFds, ...o.netFds]) {
    if (!Number.isInteger(fd) || fd < abi.SN_FD_DEV0 || fd >= abi.SN_FD_DEV0 + n)
      throw new UsageError(`seccomp hvt-solo5-helper: fd ${fd} is not one of the ${n} device fds`);
  }
}

/*
 * The helper serving a guest of upstream Solo5's hvt ABI
 * (addon/helper/helper_hvt_solo5_*.c): the calls upstream's own tender
 * allows itself (solo5-hvt-abi.md section 13), but each pinned to its fd and
 * its request, where upstream's has no argument filters at all.
 */
export function hvtSolo5HelperPolicy(o: HvtSolo5HelperPolicyOptions): Policy {
  checkDevFds(o);
  const vcpu = abi.SN_FD_DEV0 + o.ndevfds;
  const rules: Rule[] = [
    {
      syscall: 'ioctl',
      args: [
        { index: 0, op: 'in', values: [vcpu] },
        { index: 1, op: 'in', values: [KVM_RUN] },
        { index: 2, op: 'in', values: [0] },
      ],
      why: 'run the vCPU; no other KVM ioctl changes anything after set-up',
    },
    {
      syscall: 'ioctl',
      args: [
        { index: 0, op: 'in', values: [vcpu] },
        { index: 1, op: 'in', values: [KVM_GET_REGS] },
      ],
      why: "read the guest's %rip for the line that ends a guest the vCPU cannot go on running",
    },
    { syscall: 'write', args: [{ index: 0, op: 'in', values: [abi.SN_FD_CONSOLE] }], why: 'PUTS: the guest console' },
    {
      syscall: 'write',
      args: [{ index: 0, op: 'in', values: [abi.SN_FD_DIAG] }],
      why: "the one line, upstream's words, that ends a guest breaking the protocol (status 1)",
    },
    {
      syscall: 'clock_gettime',
      args: [{ index: 0, op: 'in', values: [CLOCK_REALTIME] }],
      why: 'WALLTIME',
    },
    {
      syscall: 'timerfd_settime',
      args: [{ index: 0, op: 'in', values: [abi.SN_FD_SOLO5_TIMER] }],
      why: "POLL arms its timer with the guest's timeout",
    },
    {
      syscall: 'epoll_pwait',
      args: [{ index: 0, op: 'in', values: [abi.SN_FD_SOLO5_EPOLL] }],
      why: 'POLL waits for the timer or a net device',
    },
  ];
  if (o.blockFds.length > 0) {
    for (const syscall of ['pread64', 'pwrite64'] as const)
      rules.push({ syscall, args: [{ index: 0, op: 'in', values: [...o.blockFds] }], why: 'BLOCK_READ and BLOCK_WRITE on the images' });
  }
  if (o.netFds.length > 0) {
    for (const syscall of ['read', 'write'] as const)
      rules.push({ syscall, args: [{ index: 0, op: 'in', values: [...o.netFds] }], why: 'NET_READ and NET_WRITE on taps or sockets' });
  }
  rules.push({ syscall: 'exit_group', why: "HALT (the guest's status) and the fatal paths (1)" });
  return { name: 'hvt-solo5-helper', rules };
}

const solo5Cache = new Map<string, Buffer>();

/** The key of a Solo5-ABI hvt helper's program in the cache and in the build-time table (tools/bundle-cli.js). */
export const hvtSolo5PolicyKey = (o: HvtSolo5HelperPolicyOptions): string =>
  `hvt-solo5:${o.ndevfds}:${o.blockFds.join(',')}:${o.netFds.join(',')}`;

/** The BPF program the helper installs before a Solo5-ABI hvt guest's first KVM_RUN (kept per fd layout, as above). */
export function compileHvtSolo5HelperPolicy(o: HvtSolo5HelperPolicyOptions): Buffer {
  const key = hvtSolo5PolicyKey(o);
  let prog = solo5Cache.get(key);
  if (prog === undefined) {
    const policy = hvtSolo5HelperPolicy(o);
    prog = precompiled(key, policy) ?? compilePolicy(policy);
    solo5Cache.set(key, prog);
  }
  return Buffer.from(prog);
}
