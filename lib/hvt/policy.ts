// policy.ts: the seccomp policy of solo5-helper-debug: the hvt helper's (either guest ABI), plus what the debug channel needs.

import * as abi from '../abi';
import { compilePolicy } from '../seccomp/compile';
import { hvtHelperPolicy, hvtSolo5HelperPolicy, KVM_GET_REGS, type HvtSolo5HelperPolicyOptions } from '../seccomp/hvt';
import type { Policy, Rule } from '../seccomp/policy';

/* From linux/kvm.h (_IOR/_IOW on KVMIO 0xAE); test/gdb-policy.test.ts compares them with the header. */
export { KVM_GET_REGS };
export const KVM_SET_REGS = 0x4090ae82;
export const KVM_GET_SREGS = 0x8138ae83;
export const KVM_SET_GUEST_DEBUG = 0x4048ae9b;

/** The debug socket's number in the helper: the fd after the KVM device fd (include/sn_hvt_debug.h). */
export const debugFd = (ndoorbells: number, ndevfds = 0): number => abi.SN_FD_DOORBELL0 + ndoorbells + ndevfds + 1;

/**
 * What the debug side adds: register reads and writes, guest-debug control
 * and KVM_RUN's immediate exit on its own vCPU, and reads and writes on the
 * debug socket. No new system call, no file or directory: the tender writes
 * the core and speaks to gdb.
 */
function debugRules(vcpuFd: number, dbgFd: number): Rule[] {
  const vcpu = { index: 0 as const, op: 'in' as const, values: [vcpuFd] };
  return [
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
    { syscall: 'read', args: [{ index: 0, op: 'in', values: [dbgFd] }], why: "the tender's debug requests" },
    { syscall: 'write', args: [{ index: 0, op: 'in', values: [dbgFd] }], why: 'replies, stops and the registers at the end' },
  ];
}

/** Only solo5-helper-debug installs these: the ring ABI's hvt helper policy plus the debug rules. */
export function debugHelperPolicy(ndoorbells: number): Policy {
  const base = hvtHelperPolicy({ ndoorbells });
  return { name: 'hvt-helper-debug', rules: [...base.rules, ...debugRules(abi.SN_FD_VCPU, debugFd(ndoorbells))] };
}

/** The same for a guest of upstream Solo5's hvt ABI (its vCPU follows the device fds). */
export function debugSolo5HelperPolicy(o: HvtSolo5HelperPolicyOptions, ndoorbells: number): Policy {
  const base = hvtSolo5HelperPolicy(o);
  return {
    name: 'hvt-solo5-helper-debug',
    rules: [...base.rules, ...debugRules(abi.SN_FD_DEV0 + o.ndevfds, debugFd(ndoorbells, o.ndevfds))],
  };
}

const cache = new Map<number, Buffer>();

/** The compiled ring-ABI program, one per doorbell count. */
export function compileDebugHelperPolicy(ndoorbells: number): Buffer {
  let prog = cache.get(ndoorbells);
  if (prog === undefined) {
    prog = compilePolicy(debugHelperPolicy(ndoorbells));
    cache.set(ndoorbells, prog);
  }
  return Buffer.from(prog);
}
