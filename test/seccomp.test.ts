// seccomp.test.ts: the policy compiler, checked by running its BPF in a test interpreter.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import {
  ARCH_GET_FS,
  ARCH_SET_FS,
  ARCH_SET_GS,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  CLOCK_BOOTTIME,
  CLOCK_MONOTONIC,
  CLOCK_PROCESS_CPUTIME_ID,
  CLOCK_REALTIME,
  compilePolicy,
  compileSptGuestPolicy,
  encodeProgram,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  sptGuestPolicy,
  SYSCALLS,
  X32_SYSCALL_BIT,
  type Policy,
  type Rule,
  type SyscallName,
} from '../lib/seccomp';
import { decode, runFilter } from './support/bpf-interp';

const ALLOW = SECCOMP_RET_ALLOW;
const KILL = SECCOMP_RET_KILL_PROCESS;
const HIGH = 1n << 32n;

interface Case {
  name: string;
  nr: number;
  args?: bigint[];
  arch?: number;
  want: number;
}

function call(name: SyscallName, args: Array<number | bigint>, want: number, arch = AUDIT_ARCH_X86_64): Case {
  const shown = args.map((a) => (typeof a === 'bigint' && a >= HIGH ? `0x${a.toString(16)}` : String(a)));
  return { name: `${name}(${shown.join(', ')})`, nr: SYSCALLS[name], args: args.map(BigInt), arch, want };
}

function verdict(prog: Buffer, c: Case): number {
  return runFilter(prog, { nr: c.nr, arch: c.arch ?? AUDIT_ARCH_X86_64, args: c.args ?? [] });
}

function runTable(tt: { equal(found: unknown, wanted: unknown, msg: string): unknown }, prog: Buffer, cases: readonly Case[]): void {
  for (const c of cases) {
    tt.equal(verdict(prog, c), c.want, `${c.name} -> ${c.want === ALLOW ? 'ALLOW' : 'KILL'}`);
  }
}

const DOORBELLS = [5, 6];

t.test('spt guest policy: each rule allowed, and killed with one argument changed', async (t) => {
  const prog = compileSptGuestPolicy({ doorbellFds: DOORBELLS });
  runTable(t, prog, [
    call('write', [1, 0x1000, 5], ALLOW),
    call('write', [2, 0x1000, 5], KILL),
    call('write', [0, 0x1000, 5], KILL),
    call('write', [3, 0x1000, 5], KILL),
    call('write', [1n + HIGH, 0x1000, 5], KILL),
    // Doorbells are one-way (issue 8 item 3): write only the one to the tender, read only the one to the guest.
    call('write', [5, 0x1000, 8], ALLOW),
    call('write', [5, 0x1000, 4], ALLOW),
    call('write', [6, 0x1000, 8], KILL),
    call('write', [7, 0x1000, 8], KILL),
    call('write', [5n + HIGH, 0x1000, 8], KILL),
    call('read', [6, 0x1000, 8], ALLOW),
    call('read', [5, 0x1000, 8], KILL),
    call('read', [0, 0x1000, 8], KILL),
    call('read', [1, 0x1000, 8], KILL),
    call('read', [3, 0x1000, 8], KILL),
    call('read', [6n + HIGH, 0x1000, 8], KILL),
    call('sched_yield', [], ALLOW),
    call('exit_group', [0], ALLOW),
    call('exit_group', [255], ALLOW),
    call('exit_group', [(1n << 64n) - 1n], ALLOW),
    call('clock_gettime', [CLOCK_REALTIME, 0x2000], ALLOW),
    call('clock_gettime', [CLOCK_MONOTONIC, 0x2000], ALLOW),
    call('clock_gettime', [CLOCK_BOOTTIME, 0x2000], KILL),
    call('clock_gettime', [CLOCK_PROCESS_CPUTIME_ID, 0x2000], KILL),
    call('clock_gettime', [BigInt(CLOCK_MONOTONIC) + HIGH, 0x2000], KILL),
    call('arch_prctl', [ARCH_SET_FS, 0x7000], ALLOW),
    call('arch_prctl', [ARCH_GET_FS, 0x7000], KILL),
    call('arch_prctl', [ARCH_SET_GS, 0x7000], KILL),
    call('arch_prctl', [BigInt(ARCH_SET_FS) + HIGH, 0x7000], KILL),
    call('epoll_pwait2', [3, 0x3000, 1, 0, 0, 8], ALLOW),
    call('epoll_pwait2', [4, 0x3000, 1, 0, 0, 8], KILL),
    call('epoll_pwait2', [3n + HIGH, 0x3000, 1, 0, 0, 8], KILL),
    call('epoll_pwait', [3, 0x3000, 1, 10, 0, 8], ALLOW),
    call('epoll_pwait', [4, 0x3000, 1, 10, 0, 8], KILL),
    call('epoll_pwait', [3n + HIGH, 0x3000, 1, 10, 0, 8], KILL),
  ]);
});

t.test('spt guest policy without doorbells refuses doorbell traffic', async (t) => {
  const prog = compileSptGuestPolicy({ doorbellFds: [] });
  runTable(t, prog, [
    call('write', [1, 0x1000, 5], ALLOW),
    call('write', [5, 0x1000, 8], KILL),
    call('read', [5, 0x1000, 8], KILL),
    call('read', [0, 0x1000, 8], KILL),
    call('exit_group', [3], ALLOW),
  ]);
});

t.test('spt guest policy: wrong arch, x32 and forbidden syscalls are killed', async (t) => {
  const prog = compileSptGuestPolicy({ doorbellFds: DOORBELLS });
  const forbidden: SyscallName[] = [
    'open',
    'openat',
    'socket',
    'mmap',
    'mprotect',
    'munmap',
    'exit',
    'getpid',
    'ioctl',
    'close',
    'execve',
    'clone',
    'fork',
    'kill',
    'epoll_wait',
    'ppoll',
    'nanosleep',
    'clock_nanosleep',
    'futex',
    'getrandom',
  ];
  runTable(t, prog, [
    // i386 numbers differ, but an allowed x86_64 record under the wrong arch must still die.
    call('write', [1, 0x1000, 5], KILL, AUDIT_ARCH_I386),
    call('exit_group', [0], KILL, AUDIT_ARCH_I386),
    call('exit_group', [0], KILL, 0),
    { name: 'x32 write(1)', nr: X32_SYSCALL_BIT | SYSCALLS.write, args: [1n], want: KILL },
    { name: 'x32 exit_group', nr: X32_SYSCALL_BIT | SYSCALLS.exit_group, args: [0n], want: KILL },
    { name: 'nr 0xffffffff', nr: 0xffffffff, args: [1n], want: KILL },
    { name: 'nr 999 (unassigned)', nr: 999, args: [1n], want: KILL },
    ...forbidden.map((s) => call(s, [1, 0, 0], KILL)),
    ...forbidden.map((s) => call(s, [3, 0, 0], KILL)),
  ]);
  // Rules match whole numbers, so an x32 number can never equal an allowed
  // one; the explicit x32 refusal is defence in depth and only visible in
  // the program's prologue: ld arch, jeq, ld nr, jge 0x40000000 -> ret KILL.
  const head = decode(prog).slice(0, 5);
  t.same(
    head.map((i) => [i.code, i.k]),
    [
      [0x20, 4],
      [0x15, AUDIT_ARCH_X86_64],
      [0x20, 0],
      [0x35, X32_SYSCALL_BIT],
      [0x06, KILL],
    ],
    'prologue checks arch, then refuses the x32 range',
  );
  t.equal(head[3].jt, 0, 'x32 numbers jump to the kill');
});

t.test('docs/seccomp.md lists every syscall of the spt policy', async (t) => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'seccomp.md'), 'utf8');
  for (const rule of sptGuestPolicy({ doorbellFds: DOORBELLS }).rules) {
    t.match(doc, `| \`${rule.syscall}\` |`, `${rule.syscall} has a row in the policy table`);
  }
});

/** A value for args[index] that no rule for this syscall accepts. */
function unlisted(rules: readonly Rule[], index: number): bigint {
  const used = new Set<bigint>();
  for (const r of rules) {
    for (const c of r.args ?? []) if (c.index === index && c.op === 'in') c.values.forEach((v) => used.add(BigInt(v)));
  }
  let v = 0n;
  while (used.has(v)) v++;
  return v;
}

t.test('spt guest policy, derived from its data: every rule twice', async (t) => {
  const policy = sptGuestPolicy({ doorbellFds: DOORBELLS });
  const prog = compilePolicy(policy);
  t.same(prog, compileSptGuestPolicy({ doorbellFds: DOORBELLS }), 'compileSptGuestPolicy compiles sptGuestPolicy');
  for (const rule of policy.rules) {
    const sameSyscall = policy.rules.filter((r) => r.syscall === rule.syscall);
    const args: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
    for (const c of rule.args ?? []) if (c.op === 'in') args[c.index] = BigInt(c.values[0]);
    const nr = SYSCALLS[rule.syscall];
    t.equal(runFilter(prog, { nr, arch: AUDIT_ARCH_X86_64, args }), ALLOW, `${rule.syscall}: allowed (${rule.why})`);
    for (const c of rule.args ?? []) {
      const other = [...args];
      other[c.index] = unlisted(sameSyscall, c.index);
      t.equal(
        runFilter(prog, { nr, arch: AUDIT_ARCH_X86_64, args: other }),
        KILL,
        `${rule.syscall}: args[${c.index}] = ${other[c.index]} killed`,
      );
      other[c.index] = args[c.index] + HIGH;
      t.equal(runFilter(prog, { nr, arch: AUDIT_ARCH_X86_64, args: other }), KILL, `${rule.syscall}: args[${c.index}] high bits killed`);
    }
  }
  const allowed = new Set(policy.rules.map((r) => r.syscall));
  for (const [name, nr] of Object.entries(SYSCALLS)) {
    if (allowed.has(name as SyscallName)) continue;
    t.equal(runFilter(prog, { nr, arch: AUDIT_ARCH_X86_64, args: [1n, 3n, 5n] }), KILL, `${name} is not in the policy`);
  }
});

t.test('long jumps: bodies far beyond 255 instructions still resolve', async (t) => {
  // 300 rules over three syscalls, values spread over many high words so each
  // body is long; the nr chain and the "matched" jumps must use ja trampolines.
  const names: SyscallName[] = ['write', 'read', 'ioctl'];
  const value = (s: number, i: number): bigint => (BigInt(s) << 40n) + (BigInt(i % 7) << 32n) + BigInt(1000 + i);
  const rules: Rule[] = [];
  names.forEach((name, s) => {
    for (let i = 0; i < 100; i++)
      rules.push({ syscall: name, args: [{ index: 1, op: 'in', values: [value(s, i)] }], why: `synthetic ${i}` });
  });
  rules.push({ syscall: 'getpid', why: 'after the long bodies' });
  rules.push({
    syscall: 'ioctl',
    args: [{ index: 0, op: 'in', values: Array.from({ length: 120 }, (_, i) => (BigInt(i) << 32n) | 7n) }],
    why: 'one long value list',
  });
  const prog = compilePolicy({ name: 'long', rules });
  const insns = decode(prog);
  t.ok(insns.length > 1000, `program is long (${insns.length} instructions)`);
  t.ok(
    insns.some((i) => i.code === 0x05 && i.k > 255),
    'uses ja with an offset beyond 8 bits',
  );
  names.forEach((name, s) => {
    const nr = SYSCALLS[name];
    let ok = 0;
    let killed = 0;
    for (let i = 0; i < 100; i++) {
      if (runFilter(prog, { nr, arch: AUDIT_ARCH_X86_64, args: [0n, value(s, i)] }) === ALLOW) ok++;
      if (runFilter(prog, { nr, arch: AUDIT_ARCH_X86_64, args: [0n, value(s, i) + 1n] }) === KILL) killed++;
    }
    t.equal(ok, 100, `${name}: all 100 rules match`);
    t.equal(killed, 100, `${name}: all 100 near misses are killed`);
  });
  t.equal(runFilter(prog, { nr: SYSCALLS.getpid, arch: AUDIT_ARCH_X86_64 }), ALLOW, 'syscall after the long bodies is reached');
  t.equal(
    runFilter(prog, { nr: SYSCALLS.ioctl, arch: AUDIT_ARCH_X86_64, args: [(119n << 32n) | 7n] }),
    ALLOW,
    'last value of a long list matches',
  );
  t.equal(
    runFilter(prog, { nr: SYSCALLS.ioctl, arch: AUDIT_ARCH_X86_64, args: [(120n << 32n) | 7n] }),
    KILL,
    'value past the list is killed',
  );
  t.equal(runFilter(prog, { nr: SYSCALLS.open, arch: AUDIT_ARCH_X86_64 }), KILL, 'unlisted syscall falls through to kill');
});

t.test('masked conditions compare under the mask on both halves', async (t) => {
  const prog = compilePolicy({
    name: 'masked',
    rules: [
      { syscall: 'ioctl', args: [{ index: 1, op: 'masked', mask: 0xff00, value: 0xae00 }], why: 'KVM ioctl type byte' },
      { syscall: 'mmap', args: [{ index: 3, op: 'masked', mask: 0xffffffff00000000n, value: 0x100000000n }], why: 'high half only' },
      { syscall: 'open', args: [{ index: 1, op: 'masked', mask: 0, value: 0 }], why: 'mask 0 always matches' },
    ],
  });
  runTable(t, prog, [
    call('ioctl', [9, 0xae80], ALLOW),
    call('ioctl', [9, 0x12ae01], ALLOW),
    call('ioctl', [9, 0xaf80], KILL),
    call('ioctl', [9, 0xae80n + HIGH], ALLOW),
    call('mmap', [0, 0, 0, 0x100000000n + 0x1234n], ALLOW),
    call('mmap', [0, 0, 0, 0x200000000n], KILL),
    call('mmap', [0, 0, 0, 0x1234], KILL),
    call('open', [0, 12345], ALLOW),
  ]);
});

t.test('rules for one syscall are alternatives; an unconditional rule wins', async (t) => {
  const prog = compilePolicy({
    name: 'alt',
    rules: [
      {
        syscall: 'write',
        args: [
          { index: 0, op: 'in', values: [1] },
          { index: 2, op: 'in', values: [4] },
        ],
        why: 'fd 1, 4 bytes',
      },
      { syscall: 'write', args: [{ index: 0, op: 'in', values: [2] }], why: 'fd 2, any length' },
      { syscall: 'exit', why: 'any' },
      { syscall: 'exit', args: [{ index: 0, op: 'in', values: [1] }], why: 'redundant' },
    ],
  });
  runTable(t, prog, [
    call('write', [1, 0, 4], ALLOW),
    call('write', [1, 0, 5], KILL),
    call('write', [2, 0, 5], ALLOW),
    call('write', [3, 0, 4], KILL),
    call('exit', [7], ALLOW),
  ]);
});

t.test('invalid policies and programs are refused with one-line reasons', async (t) => {
  const bad = (name: string, rules: unknown[], re: RegExp): void => {
    t.throws(() => compilePolicy({ name, rules } as Policy), re, name);
  };
  bad('empty', [], /seccomp policy empty: rules: empty/);
  bad('unknown', [{ syscall: 'frobnicate', why: 'x' }], /unknown syscall frobnicate/);
  bad('nowhy', [{ syscall: 'write', why: ' ' }], /rule 0 \(write\): field why is empty/);
  bad('novalues', [{ syscall: 'write', args: [{ index: 0, op: 'in', values: [] }], why: 'x' }], /args\[0\]: values is empty/);
  bad('index', [{ syscall: 'write', args: [{ index: 6, op: 'in', values: [1] }], why: 'x' }], /index 6 is not 0..5/);
  bad('neg', [{ syscall: 'write', args: [{ index: 0, op: 'in', values: [-1] }], why: 'x' }], /value -1 is not/);
  bad('big', [{ syscall: 'write', args: [{ index: 0, op: 'in', values: [1n << 64n] }], why: 'x' }], /not a 64-bit/);
  bad('mask', [{ syscall: 'ioctl', args: [{ index: 1, op: 'masked', mask: 0xff, value: 0x100 }], why: 'x' }], /bits outside mask/);
  bad('op', [{ syscall: 'ioctl', args: [{ index: 1, op: 'lt', values: [1] }], why: 'x' }], /op lt/);
  const many = Array.from({ length: 1400 }, (_, i) => BigInt(i) << 32n);
  bad('huge', [{ syscall: 'write', args: [{ index: 0, op: 'in', values: many }], why: 'x' }], /at most 4096/);
  t.throws(() => encodeProgram([]), /empty/);
  t.throws(() => compileSptGuestPolicy({ doorbellFds: [3, 6] }), /doorbellFds entry 3/);
  t.throws(() => compileSptGuestPolicy({ doorbellFds: [5] }), /not \(to tender, to guest\) pairs/);
  t.throws(() => compileSptGuestPolicy({ doorbellFds: [5, 5] }), /repeated/);
  t.throws(() => compileSptGuestPolicy({ doorbellFds: [5.5, 6] }), /doorbellFds entry 5.5/);
});

const unistd = ['/usr/include/x86_64-linux-gnu/asm/unistd_64.h', '/usr/include/asm/unistd_64.h'].find((p) => fs.existsSync(p));
t.test('syscall numbers agree with the host header', { skip: unistd === undefined && 'no asm/unistd_64.h on this host' }, async (t) => {
  const header = unistd ?? '';
  const text = fs.readFileSync(header, 'utf8');
  for (const [name, nr] of Object.entries(SYSCALLS)) {
    const m = new RegExp(`#define __NR_${name} (\\d+)\\b`).exec(text);
    t.equal(m === null ? undefined : Number(m[1]), nr, `${name} = ${nr}`);
  }
});

// Compile time is not asserted here: a bound on a loaded machine is either loose enough to
// prove nothing or tight enough to fail for reasons that are not the compiler's.
t.test('compileSptGuestPolicy returns private copies of one program', async (t) => {
  const a = compileSptGuestPolicy({ doorbellFds: [] });
  a.fill(0);
  const b = compileSptGuestPolicy({ doorbellFds: [] });
  t.not(b[0], 0, 'changing a returned program does not change the next one');
  t.equal(b.length % 8, 0, 'whole sock_filter records');
  t.same(b, compilePolicy(sptGuestPolicy({ doorbellFds: [] })), 'the program is what the compiler emits');
  t.not(compileSptGuestPolicy({ doorbellFds: [] }), b, 'each call returns a new buffer');
});
