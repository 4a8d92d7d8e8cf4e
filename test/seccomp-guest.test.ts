// seccomp-guest.test.ts: every rule of the spt policy, end to end: allowed call succeeds, a changed argument is killed.
import t from 'tap';
import { run } from '../lib';
import { app } from './support/paths';

/** [probe, rule it exercises, allowed?] — probes come in pairs that differ in one argument. */
const probes: [string, string, boolean][] = [
  ['write-fd1', 'write(fd=1)', true],
  ['write-fd2', 'write(fd=1)', false],
  ['clock-monotonic', 'clock_gettime(CLOCK_MONOTONIC|CLOCK_REALTIME)', true],
  ['clock-realtime', 'clock_gettime(CLOCK_MONOTONIC|CLOCK_REALTIME)', true],
  ['clock-boottime', 'clock_gettime(CLOCK_MONOTONIC|CLOCK_REALTIME)', false],
  ['clock-cputime', 'clock_gettime(CLOCK_MONOTONIC|CLOCK_REALTIME)', false],
  ['tls-setfs', 'arch_prctl(ARCH_SET_FS)', true],
  ['arch-getfs', 'arch_prctl(ARCH_SET_FS)', false],
  ['arch-setgs', 'arch_prctl(ARCH_SET_FS)', false],
  ['wait-fd3', 'epoll_pwait2(fd=3)', true],
  ['wait-fd0', 'epoll_pwait2(fd=3)', false],
  ['sched-yield', 'sched_yield', true],
  ['exit-group', 'exit_group', true],
  ['exit-plain', 'exit_group', false],
  ['open', 'no file access', false],
  ['socket', 'no sockets', false],
  ['mmap', 'no memory mapping', false],
  ['getpid', 'no process calls', false],
];

for (const [probe, rule, allowed] of probes) {
  t.test(`${probe} (${rule}) is ${allowed ? 'allowed' : 'killed'}`, async (tt) => {
    const r = await run({ kernel: app('sysprobe'), args: ['--solo5:quiet', probe], memMB: 8, timeoutMs: 120_000 });
    if (allowed) {
      tt.equal(r.exit.status, 0, 'exit 0');
      tt.match(r.output, `PROBE OK ${probe}`, 'the call returned');
    } else {
      tt.match(r.exit, { kind: 'signal', signal: 'SIGSYS', status: 159 }, 'killed by SIGSYS');
      tt.notMatch(r.output, `PROBE OK ${probe}`, 'the call never returned');
    }
  });
}
