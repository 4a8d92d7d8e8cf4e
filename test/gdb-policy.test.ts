// gdb-policy.test.ts: solo5-helper-debug's seccomp policies (both hvt ABIs, with and without gdb's ^C) rule by rule in the BPF interpreter, and their ioctl numbers against the host headers.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import * as abi from '../lib/abi';
import { compilePolicy } from '../lib/seccomp/compile';
import { AUDIT_ARCH_X86_64, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS, SYSCALLS, type SyscallName } from '../lib/seccomp/syscalls';
import { KVM_RUN } from '../lib/seccomp/hvt';
import {
  compileDebugHelperPolicy,
  debugFd,
  debugSolo5HelperPolicy,
  FIONREAD,
  KVM_GET_REGS,
  KVM_GET_SREGS,
  KVM_SET_GUEST_DEBUG,
  KVM_SET_REGS,
} from '../lib/hvt/policy';
import { runFilter } from './support/bpf-interp';

const ALLOW = SECCOMP_RET_ALLOW;
const KILL = SECCOMP_RET_KILL_PROCESS;
const KVM_SET_SREGS = 0x4138ae84;

const verdict = (prog: Buffer, name: SyscallName, args: number[]): number =>
  runFilter(prog, { nr: SYSCALLS[name], arch: AUDIT_ARCH_X86_64, args: args.map(BigInt) });

t.test('ring ABI: the default rules plus registers, guest debug and the debug socket', async (t) => {
  const prog = compileDebugHelperPolicy(2);
  const dbg = debugFd(2);
  t.equal(dbg, abi.SN_FD_DOORBELL0 + 2 + 1, 'the fd after the KVM device fd');
  const rows: [SyscallName, number[], number][] = [
    ['ioctl', [abi.SN_FD_VCPU, KVM_RUN, 0], ALLOW],
    ['ioctl', [abi.SN_FD_VCPU, KVM_GET_REGS, 0x1000], ALLOW],
    ['ioctl', [abi.SN_FD_VCPU, KVM_GET_SREGS, 0x1000], ALLOW],
    ['ioctl', [abi.SN_FD_VCPU, KVM_SET_REGS, 0x1000], ALLOW],
    ['ioctl', [abi.SN_FD_VCPU, KVM_SET_GUEST_DEBUG, 0x1000], ALLOW],
    ['ioctl', [abi.SN_FD_VCPU, KVM_SET_SREGS, 0x1000], KILL],
    ['ioctl', [dbg, KVM_GET_REGS, 0x1000], KILL],
    ['read', [dbg, 0x1000, 24], ALLOW],
    ['write', [dbg, 0x1000, 24], ALLOW],
    ['read', [dbg + 1, 0x1000, 24], KILL],
    ['write', [dbg + 1, 0x1000, 24], KILL],
    ['openat', [-100 >>> 0, 0x1000, 0], KILL],
    ['kill', [1, 9], KILL],
    ['rt_sigreturn', [], ALLOW],
    ['ioctl', [dbg, FIONREAD, 0x1000], ALLOW],
    ['ioctl', [abi.SN_FD_VCPU, FIONREAD, 0x1000], KILL],
    ['ioctl', [dbg, KVM_RUN, 0], KILL],
  ];
  for (const [name, args, want] of rows) t.equal(verdict(prog, name, args), want, `${name}(${args.join(', ')})`);
});

t.test("--dumpcore without --gdb: nothing for gdb's ^C", async (t) => {
  const prog = compileDebugHelperPolicy(2, false);
  const dbg = debugFd(2);
  t.equal(verdict(prog, 'rt_sigreturn', []), KILL, 'no SIGIO handler to return from');
  t.equal(verdict(prog, 'ioctl', [dbg, FIONREAD, 0x1000]), KILL);
  t.equal(verdict(prog, 'ioctl', [abi.SN_FD_VCPU, KVM_GET_REGS, 0x1000]), ALLOW, 'the registers for the core');
  const solo5 = compilePolicy(debugSolo5HelperPolicy({ ndevfds: 1, blockFds: [abi.SN_FD_DEV0], netFds: [] }, 0, false));
  t.equal(verdict(solo5, 'rt_sigreturn', []), KILL);
});

t.test("upstream ABI: the vCPU after the device fds, the socket after the KVM device's", async (t) => {
  const o = { ndevfds: 2, blockFds: [5], netFds: [6] };
  const prog = compilePolicy(debugSolo5HelperPolicy(o, 1));
  const vcpu = abi.SN_FD_DEV0 + 2;
  const dbg = abi.SN_FD_DEV0 + 1 + 2 + 1;
  const rows: [SyscallName, number[], number][] = [
    ['ioctl', [vcpu, KVM_SET_GUEST_DEBUG, 0x1000], ALLOW],
    ['ioctl', [vcpu, KVM_SET_REGS, 0x1000], ALLOW],
    ['ioctl', [abi.SN_FD_VCPU, KVM_SET_GUEST_DEBUG, 0x1000], KILL],
    ['read', [dbg, 0x1000, 24], ALLOW],
    ['write', [dbg, 0x1000, 24], ALLOW],
    ['pread64', [5, 0x1000, 512, 0], ALLOW],
    ['read', [dbg - 1, 0x1000, 24], KILL],
    ['rt_sigreturn', [], ALLOW],
    ['ioctl', [dbg, FIONREAD, 0x1000], ALLOW],
    ['ioctl', [dbg - 1, FIONREAD, 0x1000], KILL],
  ];
  for (const [name, args, want] of rows) t.equal(verdict(prog, name, args), want, `${name}(${args.join(', ')})`);
});

let gccWhy: string | undefined;
try {
  execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  if (!fs.existsSync('/usr/include/linux/kvm.h')) gccWhy = 'no linux/kvm.h (linux-libc-dev) on this host';
} catch {
  gccWhy = 'no gcc on this host';
}

t.test("the debug ioctl numbers are linux/kvm.h's and sys/ioctl.h's", { skip: gccWhy ?? false }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-kvm-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const src = path.join(dir, 'probe.c');
  fs.writeFileSync(
    src,
    '#include <linux/kvm.h>\n#include <sys/ioctl.h>\n#include <stdio.h>\nint main(void) { printf("%lu %lu %lu %lu %lu\\n", (unsigned long)KVM_GET_REGS, ' +
      '(unsigned long)KVM_SET_REGS, (unsigned long)KVM_GET_SREGS, (unsigned long)KVM_SET_GUEST_DEBUG, (unsigned long)FIONREAD); return 0; }\n',
  );
  execFileSync('gcc', ['-o', path.join(dir, 'probe'), src]);
  const got = execFileSync(path.join(dir, 'probe'), { encoding: 'utf8' }).trim().split(' ').map(Number);
  t.same(got, [KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_GUEST_DEBUG, FIONREAD]);
});
