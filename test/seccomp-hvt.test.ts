// seccomp-hvt.test.ts: the hvt helper's own policy, run in the BPF interpreter: each rule allowed, then killed with one argument changed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { UsageError } from '../lib/errors';
import {
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  CLOCK_MONOTONIC,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  SYSCALLS,
  X32_SYSCALL_BIT,
  compilePolicy,
  type SyscallName,
} from '../lib/seccomp';
import {
  compileHvtHelperPolicy,
  compileHvtSolo5HelperPolicy,
  hvtHelperPolicy,
  hvtSolo5HelperPolicy,
  KVM_GET_REGS,
  KVM_RUN,
  KVM_SET_MSRS,
} from '../lib/seccomp/hvt';
import { runFilter } from './support/bpf-interp';

const ALLOW = SECCOMP_RET_ALLOW;
const KILL = SECCOMP_RET_KILL_PROCESS;
const HIGH = 1n << 32n;
const VCPU = 4;
/* Other KVM ioctls (linux/kvm.h) the run loop must never make once confined. */
const KVM_SET_REGS = 0x4090ae82;
const KVM_SET_SREGS = 0x4138ae84;
const KVM_SET_USER_MEMORY_REGION = 0x4020ae46;
const KVM_CREATE_VCPU = 0xae41;

function verdict(prog: Buffer, name: SyscallName, args: Array<number | bigint>, arch = AUDIT_ARCH_X86_64): number {
  return runFilter(prog, { nr: SYSCALLS[name], arch, args: args.map(BigInt) });
}

type Row = [SyscallName, Array<number | bigint>, number];

const withDoorbells: Row[] = [
  ['ioctl', [VCPU, KVM_RUN, 0], ALLOW],
  ['ioctl', [3, KVM_RUN, 0], KILL],
  ['ioctl', [5, KVM_RUN, 0], KILL],
  ['ioctl', [BigInt(VCPU) + HIGH, KVM_RUN, 0], KILL],
  ['ioctl', [VCPU, BigInt(KVM_RUN) + HIGH, 0], KILL],
  ['ioctl', [VCPU, KVM_RUN, 1], KILL],
  ['ioctl', [VCPU, KVM_SET_MSRS, 0x7fff0000], ALLOW],
  ['ioctl', [5, KVM_SET_MSRS, 0x7fff0000], KILL],
  ['ioctl', [VCPU, KVM_SET_REGS, 0x7fff0000], KILL],
  ['ioctl', [VCPU, KVM_SET_SREGS, 0x7fff0000], KILL],
  ['ioctl', [VCPU, KVM_SET_USER_MEMORY_REGION, 0x7fff0000], KILL],
  ['ioctl', [VCPU, KVM_CREATE_VCPU, 0], KILL],
  ['write', [1, 0x1000, 5], ALLOW],
  ['write', [2, 0x1000, 5], KILL],
  ['write', [1n + HIGH, 0x1000, 5], KILL],
  ['write', [5, 0x1000, 8], ALLOW],
  ['write', [6, 0x1000, 8], KILL],
  ['write', [VCPU, 0x1000, 8], KILL],
  ['read', [6, 0x1000, 8], ALLOW],
  ['read', [5, 0x1000, 8], KILL],
  ['read', [0, 0x1000, 8], KILL],
  ['read', [6n + HIGH, 0x1000, 8], KILL],
  ['epoll_pwait2', [3, 0x1000, 1, 0x2000, 0, 8], ALLOW],
  ['epoll_pwait2', [6, 0x1000, 1, 0x2000, 0, 8], KILL],
  ['epoll_pwait', [3, 0x1000, 1, 10, 0, 8], ALLOW],
  ['epoll_pwait', [0, 0x1000, 1, 10, 0, 8], KILL],
  ['exit_group', [255], ALLOW],
  ['exit_group', [0], ALLOW],
  ['exit', [0], KILL],
  ['clock_gettime', [CLOCK_MONOTONIC, 0x1000], KILL],
  ['open', [0x1000, 0, 0], KILL],
  ['mmap', [0, 4096, 3, 0x22, -1 >>> 0, 0], KILL],
  ['getpid', [], KILL],
];

t.test('hvt helper policy with a doorbell pair: each rule, and each with an argument changed', async (t) => {
  const prog = compileHvtHelperPolicy({ ndoorbells: 2 });
  for (const [name, args, want] of withDoorbells) {
    t.equal(verdict(prog, name, args), want, `${name}(${args.join(', ')}) -> ${want === ALLOW ? 'ALLOW' : 'KILL'}`);
  }
});

t.test('hvt helper policy without doorbells refuses doorbell traffic', async (t) => {
  const prog = compileHvtHelperPolicy({ ndoorbells: 0 });
  t.equal(verdict(prog, 'ioctl', [VCPU, KVM_RUN, 0]), ALLOW, 'KVM_RUN still allowed');
  t.equal(verdict(prog, 'write', [5, 0x1000, 8]), KILL, 'no kick without a doorbell');
  t.equal(verdict(prog, 'read', [6, 0x1000, 8]), KILL, 'no drain without a doorbell');
});

t.test('hvt helper policy: wrong arch and the x32 range are killed', async (t) => {
  const prog = compileHvtHelperPolicy({ ndoorbells: 2 });
  t.equal(verdict(prog, 'ioctl', [VCPU, KVM_RUN, 0], AUDIT_ARCH_I386), KILL, 'i386 ABI');
  t.equal(
    runFilter(prog, { nr: SYSCALLS.ioctl | X32_SYSCALL_BIT, arch: AUDIT_ARCH_X86_64, args: [4n, BigInt(KVM_RUN), 0n] }),
    KILL,
    'x32 ioctl',
  );
});

t.test('hvt helper policy, derived from its data: every rule allowed, then refused with a foreign value', async (t) => {
  const policy = hvtHelperPolicy({ ndoorbells: 4 });
  const prog = compilePolicy(policy);
  t.same(prog, compileHvtHelperPolicy({ ndoorbells: 4 }), 'compileHvtHelperPolicy compiles hvtHelperPolicy');
  for (const rule of policy.rules) {
    t.ok(rule.why.length > 10, `${rule.syscall} says why`);
    const args: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
    for (const c of rule.args ?? []) if (c.op === 'in') args[c.index] = BigInt(c.values[0]);
    t.equal(runFilter(prog, { nr: SYSCALLS[rule.syscall], arch: AUDIT_ARCH_X86_64, args }), ALLOW, `${rule.syscall}: ${rule.why}`);
    for (const c of rule.args ?? []) {
      const other = [...args];
      other[c.index] = args[c.index] + HIGH;
      t.equal(
        runFilter(prog, { nr: SYSCALLS[rule.syscall], arch: AUDIT_ARCH_X86_64, args: other }),
        KILL,
        `${rule.syscall}: args[${c.index}] with high bits killed`,
      );
    }
  }
  t.same(
    [...new Set(policy.rules.map((r) => r.syscall))].sort(),
    ['epoll_pwait', 'epoll_pwait2', 'exit_group', 'ioctl', 'read', 'write'],
    'nothing else: no files, memory mappings, clocks or processes',
  );
});

/* A Solo5-ABI hvt guest with a block image at fd 5 and a tap at fd 6: the vCPU is fd 7. */
const S_VCPU = 7;
const solo5Rows: Row[] = [
  ['ioctl', [S_VCPU, KVM_RUN, 0], ALLOW],
  ['ioctl', [VCPU, KVM_RUN, 0], KILL],
  ['ioctl', [S_VCPU, KVM_RUN, 1], KILL],
  ['ioctl', [S_VCPU, KVM_GET_REGS, 0x7fff0000], ALLOW],
  ['ioctl', [6, KVM_GET_REGS, 0x7fff0000], KILL],
  ['ioctl', [S_VCPU, KVM_SET_MSRS, 0x7fff0000], KILL],
  ['ioctl', [S_VCPU, KVM_SET_REGS, 0x7fff0000], KILL],
  ['ioctl', [S_VCPU, KVM_SET_USER_MEMORY_REGION, 0x7fff0000], KILL],
  ['write', [1, 0x1000, 5], ALLOW],
  ['write', [2, 0x1000, 5], ALLOW],
  ['write', [6, 0x1000, 60], ALLOW],
  ['write', [5, 0x1000, 512], KILL],
  ['write', [S_VCPU, 0x1000, 8], KILL],
  ['write', [6n + HIGH, 0x1000, 60], KILL],
  ['read', [6, 0x1000, 1514], ALLOW],
  ['read', [5, 0x1000, 512], KILL],
  ['read', [0, 0x1000, 8], KILL],
  ['pread64', [5, 0x1000, 512, 0], ALLOW],
  ['pread64', [6, 0x1000, 512, 0], KILL],
  ['pwrite64', [5, 0x1000, 512, 0], ALLOW],
  ['pwrite64', [4, 0x1000, 512, 0], KILL],
  ['clock_gettime', [0, 0x1000], ALLOW],
  ['clock_gettime', [CLOCK_MONOTONIC, 0x1000], KILL],
  ['timerfd_settime', [4, 0, 0x1000, 0], ALLOW],
  ['timerfd_settime', [3, 0, 0x1000, 0], KILL],
  ['epoll_pwait', [3, 0x1000, 64, -1 >>> 0, 0, 8], ALLOW],
  ['epoll_pwait', [4, 0x1000, 64, -1 >>> 0, 0, 8], KILL],
  ['epoll_pwait2', [3, 0x1000, 1, 0x2000, 0, 8], KILL],
  ['exit_group', [1], ALLOW],
  ['exit', [0], KILL],
  ['mmap', [0, 4096, 3, 0x22, -1 >>> 0, 0], KILL],
  ['mprotect', [0x1000, 4096, 7], KILL],
  ['open', [0x1000, 0, 0], KILL],
];

t.test('hvt helper policy for a Solo5-ABI guest: each rule, and each with an argument changed', async (t) => {
  const prog = compileHvtSolo5HelperPolicy({ ndevfds: 2, blockFds: [5], netFds: [6] });
  for (const [name, args, want] of solo5Rows) {
    t.equal(verdict(prog, name, args), want, `${name}(${args.join(', ')}) -> ${want === ALLOW ? 'ALLOW' : 'KILL'}`);
  }
  const bare = compileHvtSolo5HelperPolicy({ ndevfds: 0, blockFds: [], netFds: [] });
  t.equal(verdict(bare, 'ioctl', [5, KVM_RUN, 0]), ALLOW, 'without devices the vCPU is fd 5');
  t.equal(verdict(bare, 'pread64', [5, 0x1000, 512, 0]), KILL, 'no block I/O without a block device');
  t.equal(verdict(bare, 'read', [5, 0x1000, 8]), KILL, 'no net I/O without a net device');
  const policy = hvtSolo5HelperPolicy({ ndevfds: 2, blockFds: [5], netFds: [6] });
  for (const rule of policy.rules) t.ok(rule.why.length > 5, `${rule.syscall} says why`);
  t.same(
    [...new Set(policy.rules.map((r) => r.syscall))].sort(),
    ['clock_gettime', 'epoll_pwait', 'exit_group', 'ioctl', 'pread64', 'pwrite64', 'read', 'timerfd_settime', 'write'],
    "upstream's own list less its memory, signal and thread calls",
  );
  for (const bad of [
    { ndevfds: 64, blockFds: [], netFds: [] },
    { ndevfds: 1, blockFds: [6], netFds: [] },
    { ndevfds: 1, blockFds: [], netFds: [4] },
  ])
    t.throws(() => compileHvtSolo5HelperPolicy(bad), UsageError, JSON.stringify(bad));
});

t.test('doorbell counts are checked', async (t) => {
  for (const n of [1, 3, -2, 1.5, 200]) t.throws(() => compileHvtHelperPolicy({ ndoorbells: n }), UsageError, `ndoorbells ${n}`);
});

t.test('docs/hvt.md lists every rule of the hvt helper policy', async (t) => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'hvt.md'), 'utf8');
  for (const rule of hvtHelperPolicy({ ndoorbells: 2 }).rules) t.match(doc, `\`${rule.syscall}\``, `${rule.syscall} is documented`);
  t.match(doc, 'KVM_SET_MSRS');
  for (const rule of hvtSolo5HelperPolicy({ ndevfds: 2, blockFds: [5], netFds: [6] }).rules)
    t.match(doc, `\`${rule.syscall}\``, `${rule.syscall} is documented`);
  t.match(doc, 'KVM_GET_REGS');
});

let gccWhy: string | undefined;
try {
  execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  if (!fs.existsSync('/usr/include/linux/kvm.h')) gccWhy = 'no linux/kvm.h (linux-libc-dev) on this host';
} catch {
  gccWhy = 'no gcc on this host';
}

t.test("the ioctl numbers are linux/kvm.h's", { skip: gccWhy ?? false }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-kvm-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const src = path.join(dir, 'probe.c');
  fs.writeFileSync(
    src,
    [
      '#include <stdio.h>',
      '#include <linux/kvm.h>',
      'int main(void) {',
      '  printf("%lu %lu %lu %lu %lu %lu %lu\\n", (unsigned long)KVM_RUN, (unsigned long)KVM_SET_MSRS,',
      '         (unsigned long)KVM_SET_REGS, (unsigned long)KVM_SET_SREGS,',
      '         (unsigned long)KVM_SET_USER_MEMORY_REGION, (unsigned long)KVM_CREATE_VCPU, (unsigned long)KVM_GET_REGS);',
      '  return 0;',
      '}',
    ].join('\n'),
  );
  execFileSync('gcc', ['-o', path.join(dir, 'probe'), src]);
  const got = execFileSync(path.join(dir, 'probe'), { encoding: 'utf8' }).trim().split(' ').map(Number);
  t.same(got, [KVM_RUN, KVM_SET_MSRS, KVM_SET_REGS, KVM_SET_SREGS, KVM_SET_USER_MEMORY_REGION, KVM_CREATE_VCPU, KVM_GET_REGS]);
});
