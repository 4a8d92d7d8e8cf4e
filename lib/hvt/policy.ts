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

/** FIONREAD (asm-generic/ioctls.h): bytes waiting on a socket. */
export const FIONREAD = 0x541b;

/**
 * What the debug side adds: register reads and writes, guest-debug control
 * and KVM_RUN's immediate exit on its own vCPU, and reads and writes on the
 * debug socket. No file or directory: the tender writes the core and speaks
 * to gdb. Under gdb (`gdb`), what its ^C needs: rt_sigreturn, the one new
 * system call, to return from the SIGIO handler that kicks the vCPU out of
 * KVM_RUN, and FIONREAD on the debug socket, to look for the ^C without
 * blocking.
 */
function debugRules(vcpuFd: number, dbgFd: number, gdb: boolean): Rule[] {
  const vcpu = { index: 0 as const, op: 'in' as const, values: [vcpuFd] };
  const interrupt: Rule[] = [
    { syscall: 'rt_sigreturn', why: "return from SIGIO's handler: gdb's ^C arrived and KVM_RUN was asked to return" },
    {
      syscall: 'ioctl',
      args: [
        { index: 0, op: 'in', values: [dbgFd] },
        { index: 1, op: 'in', values: [FIONREAD] },
      ],
      why: 'after a SIGIO: is a ^C (or a detach) waiting on the debug socket, without blocking when not',
    },
  ];
  return [
    ...(gdb ? interrupt : []),
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

/** Only solo5-helper-debug installs these: the ring ABI's hvt helper policy plus the debug rules (`gdb`: and ^C's). */
export function debugHelperPolicy(ndoorbells: number, gdb = true): Policy {
  const base = hvtHelperPolicy({ ndoorbells });
  return { name: 'hvt-helper-debug', rules: [...base.rules, ...debugRules(abi.SN_FD_VCPU, debugFd(ndoorbells), gdb)] };
}

/** The same for a guest of upstream Solo5's hvt ABI (its vCPU follows the device fds). */
export function debugSolo5HelperPolicy(o: HvtSolo5HelperPolicyOptions, ndoorbells: number, gdb = true): Policy {
  const base = hvtSolo5HelperPolicy(o);
  return {
    name: 'hvt-solo5-helper-debug',
    rules: [...base.rules, ...debugRules(abi.SN_FD_DEV0 + o.ndevfds, debugFd(ndoorbells, o.ndevfds), gdb)],
  };
}

const cache = new Map<string, Buffer>();

/** The compiled ring-ABI program, one per doorbell count, with or without gdb's ^C. */
export function compileDebugHelperPolicy(ndoorbells: number, gdb = true): Buffer {
  const key = `${ndoorbells}:${gdb}`;
  let prog = cache.get(key);
  if (prog === undefined) {
    prog = compilePolicy(debugHelperPolicy(ndoorbells, gdb));
    cache.set(key, prog);
  }
  return Buffer.from(prog);
}
