// policy.ts: the seccomp policy of solo5-helper-debug: the hvt helper's, plus what the debug channel needs.

import * as abi from '../abi';
import { compilePolicy } from '../seccomp/compile';
import { hvtHelperPolicy } from '../seccomp/hvt';
import type { Policy } from '../seccomp/policy';
import { debugFd } from './channel';

/* From linux/kvm.h (_IOR/_IOW on KVMIO 0xAE); test/dumpcore.test.ts compares them with the header. */
export const KVM_GET_REGS = 0x8090ae81;
export const KVM_SET_REGS = 0x4090ae82;
export const KVM_GET_SREGS = 0x8138ae83;
export const KVM_SET_GUEST_DEBUG = 0x4048ae9b;

/**
 * Only solo5-helper-debug installs this: the default helper's rules, plus
 * register reads and writes and guest-debug control on its own vCPU, and
 * reads and writes on the debug socket. No new system call, no file or
 * directory: the tender writes the core and speaks to gdb.
 */
export function debugHelperPolicy(ndoorbells: number): Policy {
  const base = hvtHelperPolicy({ ndoorbells });
  const fd = debugFd(ndoorbells);
  const vcpu = { index: 0 as const, op: 'in' as const, values: [abi.SN_FD_VCPU] };
  return {
    name: 'hvt-helper-debug',
    rules: [
      ...base.rules,
      {
        syscall: 'ioctl',
        args: [vcpu, { index: 1, op: 'in', values: [KVM_GET_REGS, KVM_GET_SREGS] }],
        why: "the guest's registers for gdb and for the core written when it aborts",
      },
      {
        syscall: 'ioctl',
        args: [vcpu, { index: 1, op: 'in', values: [KVM_SET_REGS, KVM_SET_GUEST_DEBUG] }],
        why: "gdb's register writes, single-step and hardware breakpoints",
      },
      {
        syscall: 'read',
        args: [{ index: 0, op: 'in', values: [fd] }],
        why: "the tender's debug requests",
      },
      {
        syscall: 'write',
        args: [{ index: 0, op: 'in', values: [fd] }],
        why: 'replies, stops and the registers at the end',
      },
    ],
  };
}

const cache = new Map<number, Buffer>();

/** The compiled program, one per doorbell count. */
export function compileDebugHelperPolicy(ndoorbells: number): Buffer {
  let prog = cache.get(ndoorbells);
  if (prog === undefined) {
    prog = compilePolicy(debugHelperPolicy(ndoorbells));
    cache.set(ndoorbells, prog);
  }
  return Buffer.from(prog);
}
