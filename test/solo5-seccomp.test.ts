// solo5-seccomp.test.ts: the Solo5-ABI guest policy (upstream's rules as data) and the unsigned `le` comparison, in the BPF interpreter.
import t from 'tap';
import {
  ARCH_GET_FS,
  ARCH_SET_FS,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  CLOCK_BOOTTIME,
  CLOCK_MONOTONIC,
  CLOCK_REALTIME,
  compilePolicy,
  compileSolo5GuestPolicy,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  solo5GuestPolicy,
  SYSCALLS,
  X32_SYSCALL_BIT,
  type SyscallName,
} from '../lib/seccomp';
import { runFilter } from './support/bpf-interp';

const ALLOW = SECCOMP_RET_ALLOW;
const KILL = SECCOMP_RET_KILL_PROCESS;
const U64 = (1n << 64n) - 1n;

const verdict = (prog: Buffer, name: SyscallName, args: bigint[], arch = AUDIT_ARCH_X86_64) =>
  runFilter(prog, { nr: SYSCALLS[name], arch, args });

t.test('le: unsigned 64-bit at-most, across the word boundary', async (t) => {
  for (const limit of [0n, 1n, 0xfffffffen, 0xffffffffn, 1n << 32n, (1n << 32n) + 5n, 0x7fffffffffffffffn, U64 - 1n, U64]) {
    const prog = compilePolicy({ name: 'le', rules: [{ syscall: 'pread64', args: [{ index: 3, op: 'le', value: limit }], why: 'test' }] });
    const probes = [
      0n,
      1n,
      limit - 1n,
      limit,
      limit + 1n,
      limit + (1n << 32n),
      limit - (1n << 32n),
      0xffffffffn,
      1n << 32n,
      1n << 63n,
      U64,
    ];
    for (const v of probes) {
      if (v < 0n || v > U64) continue;
      t.equal(verdict(prog, 'pread64', [0n, 0n, 0n, v]), v <= limit ? ALLOW : KILL, `${v} <= ${limit}`);
    }
  }
});

const EPOLL = 3;
const TIMER = 4;
const NET = 5;
const BLK = 6;
const BLK2 = 7;
const BS = 512;
const CAP = 1n << 20n;
const BS2 = 4096;
const CAP2 = (1n << 33n) + 4096n;

const policy = {
  epollFd: EPOLL,
  timerFd: TIMER,
  netFds: [NET],
  blockFds: [
    { fd: BLK, blockSize: BS, capacity: CAP },
    { fd: BLK2, blockSize: BS2, capacity: CAP2 },
  ],
};

t.test("every rule of upstream's spt policy: allowed, and killed with one argument changed", async (t) => {
  const prog = compileSolo5GuestPolicy(policy);
  const cases: [string, SyscallName, bigint[], number][] = [
    ['console write', 'write', [1n, 0x2000n, 5n], ALLOW],
    ['write to stderr', 'write', [2n, 0x2000n, 5n], KILL],
    ['write to fd 1 with high bits', 'write', [1n + (1n << 32n), 0x2000n, 5n], KILL],
    ['exit_group', 'exit_group', [0n], ALLOW],
    ['exit_group 255', 'exit_group', [255n], ALLOW],
    ['epoll_pwait on the epoll fd', 'epoll_pwait', [BigInt(EPOLL), 0x2000n, 2n, U64, 0n, 0n], ALLOW],
    ['epoll_pwait elsewhere', 'epoll_pwait', [BigInt(TIMER), 0x2000n, 2n, U64, 0n, 0n], KILL],
    ['epoll_pwait2 (not upstream)', 'epoll_pwait2', [BigInt(EPOLL), 0n, 1n, 0n, 0n, 8n], KILL],
    ['timerfd_settime on the timerfd', 'timerfd_settime', [BigInt(TIMER), 1n, 0x2000n, 0n], ALLOW],
    ['timerfd_settime elsewhere', 'timerfd_settime', [BigInt(EPOLL), 1n, 0x2000n, 0n], KILL],
    ['clock_gettime monotonic', 'clock_gettime', [BigInt(CLOCK_MONOTONIC), 0x2000n], ALLOW],
    ['clock_gettime realtime', 'clock_gettime', [BigInt(CLOCK_REALTIME), 0x2000n], ALLOW],
    ['clock_gettime boottime', 'clock_gettime', [BigInt(CLOCK_BOOTTIME), 0x2000n], KILL],
    ['arch_prctl set fs', 'arch_prctl', [BigInt(ARCH_SET_FS), 0n], ALLOW],
    ['arch_prctl get fs', 'arch_prctl', [BigInt(ARCH_GET_FS), 0x2000n], KILL],
    ['net read', 'read', [BigInt(NET), 0x2000n, 1514n], ALLOW],
    ['net write', 'write', [BigInt(NET), 0x2000n, 60n], ALLOW],
    ['read on a block fd', 'read', [BigInt(BLK), 0x2000n, 512n], KILL],
    ['read on stdin', 'read', [0n, 0x2000n, 1n], KILL],
    ['write on the timerfd', 'write', [BigInt(TIMER), 0x2000n, 8n], KILL],
    ['pread64 first block', 'pread64', [BigInt(BLK), 0x2000n, BigInt(BS), 0n], ALLOW],
    ['pread64 last block', 'pread64', [BigInt(BLK), 0x2000n, BigInt(BS), CAP - BigInt(BS)], ALLOW],
    ['pread64 past the last block', 'pread64', [BigInt(BLK), 0x2000n, BigInt(BS), CAP - BigInt(BS) + 1n], KILL],
    ['pread64 at the capacity', 'pread64', [BigInt(BLK), 0x2000n, BigInt(BS), CAP], KILL],
    ['pread64 negative offset', 'pread64', [BigInt(BLK), 0x2000n, BigInt(BS), U64], KILL],
    ['pread64 two blocks', 'pread64', [BigInt(BLK), 0x2000n, 2n * BigInt(BS), 0n], KILL],
    ['pread64 half a block', 'pread64', [BigInt(BLK), 0x2000n, BigInt(BS / 2), 0n], KILL],
    ['pread64 on the net fd', 'pread64', [BigInt(NET), 0x2000n, BigInt(BS), 0n], KILL],
    ['pwrite64 last block', 'pwrite64', [BigInt(BLK), 0x2000n, BigInt(BS), CAP - BigInt(BS)], ALLOW],
    ['pwrite64 past the last block', 'pwrite64', [BigInt(BLK), 0x2000n, BigInt(BS), CAP], KILL],
    ['pwrite64 wrong size', 'pwrite64', [BigInt(BLK), 0x2000n, 1024n, 0n], KILL],
    ['pwrite64 other device size', 'pwrite64', [BigInt(BLK), 0x2000n, BigInt(BS2), 0n], KILL],
    ['pread64 second device, beyond 4 GiB', 'pread64', [BigInt(BLK2), 0x2000n, BigInt(BS2), CAP2 - BigInt(BS2)], ALLOW],
    ['pread64 second device, one past', 'pread64', [BigInt(BLK2), 0x2000n, BigInt(BS2), CAP2 - BigInt(BS2) + 1n], KILL],
    [
      'pwrite64 second device, low word of the limit with a higher high word',
      'pwrite64',
      [BigInt(BLK2), 0x2000n, BigInt(BS2), 3n << 32n],
      KILL,
    ],
    ['pwrite64 second device, other size', 'pwrite64', [BigInt(BLK2), 0x2000n, BigInt(BS), 0n], KILL],
    ['mmap', 'mmap', [0n, 4096n, 7n, 0x22n, U64, 0n], KILL],
    ['mprotect', 'mprotect', [0x100000n, 4096n, 7n], KILL],
    ['close', 'close', [BigInt(BLK)], KILL],
    ['exit', 'exit', [0n], KILL],
    ['ioctl on the net fd', 'ioctl', [BigInt(NET), 0x400454can, 0n], KILL],
  ];
  for (const [name, sc, args, want] of cases) t.equal(verdict(prog, sc, args), want, `${name} -> ${want === ALLOW ? 'ALLOW' : 'KILL'}`);
  t.equal(verdict(prog, 'write', [1n, 0n, 1n], AUDIT_ARCH_I386), KILL, 'i386 arch killed');
  t.equal(runFilter(prog, { nr: X32_SYSCALL_BIT | SYSCALLS.write, arch: AUDIT_ARCH_X86_64, args: [1n, 0n, 1n] }), KILL, 'x32 write killed');
});

t.test('the policy has exactly upstream syscall set (9 distinct on x86_64)', async (t) => {
  const names = new Set(solo5GuestPolicy(policy).rules.map((r) => r.syscall));
  t.same([...names].sort(), [
    'arch_prctl',
    'clock_gettime',
    'epoll_pwait',
    'exit_group',
    'pread64',
    'pwrite64',
    'read',
    'timerfd_settime',
    'write',
  ]);
  const bare = new Set(solo5GuestPolicy({ epollFd: EPOLL, timerFd: TIMER, netFds: [], blockFds: [] }).rules.map((r) => r.syscall));
  t.same(
    [...bare].sort(),
    ['arch_prctl', 'clock_gettime', 'epoll_pwait', 'exit_group', 'timerfd_settime', 'write'],
    'no device: no device syscalls',
  );
  for (const r of solo5GuestPolicy(policy).rules) t.ok(r.why.length > 10, `${r.syscall}: says why`);
});

t.test('bad policy input is refused in one line', async (t) => {
  t.throws(() => solo5GuestPolicy({ ...policy, epollFd: 1 }), /epollFd 1 is not an fd above 2/);
  t.throws(() => solo5GuestPolicy({ ...policy, netFds: [-1] }), /net fd -1/);
  t.throws(
    () => solo5GuestPolicy({ ...policy, blockFds: [{ fd: 6, blockSize: 512, capacity: 256n }] }),
    /block fd 6 has block size 512 and capacity 256/,
  );
  t.throws(
    () => compilePolicy({ name: 'x', rules: [{ syscall: 'read', args: [{ index: 3, op: 'le', value: -1 }], why: 'x' }] }),
    /not a non-negative safe integer/,
  );
  t.throws(
    () => compilePolicy({ name: 'x', rules: [{ syscall: 'read', args: [{ index: 3, op: 'le', value: 1n << 64n }], why: 'x' }] }),
    /not a 64-bit unsigned integer/,
  );
});
