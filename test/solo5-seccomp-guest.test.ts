// solo5-seccomp-guest.test.ts: every rule of the Solo5-ABI policy from inside a real guest (sysprobe built --abi=solo5): allowed, and killed with one argument changed.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { run, VirtualSwitch } from '../lib';
import { imageMaker } from './support/images';
import { root } from './support/paths';

/*
 * Probe names are documented at the top of guest/apps/sysprobe/sysprobe.c. An
 * allowed probe prints "PROBE OK <name>" and exits 0; a forbidden one dies of
 * SIGSYS (159) before it can print anything.
 */
const ALLOWED = [
  'write-fd1',
  'clock-realtime',
  'clock-monotonic',
  'tls-setfs',
  'epoll-pwait',
  'timerfd-settime',
  'net-read',
  'net-write',
  'block-pread',
  'block-pwrite',
  'block-pread-last',
  'block-pwrite-last',
  'block-pread-unaligned',
  'block-pwrite-unaligned',
  'exit-group',
];
const KILLED = [
  'write-fd2',
  'clock-cputime',
  'clock-boottime',
  'arch-getfs',
  'arch-setgs',
  'epoll-pwait-otherfd',
  'epoll-pwait2',
  'timerfd-settime-otherfd',
  'net-read-otherfd',
  'net-write-otherfd',
  // Through the fd path a wrong-sized block request, or one outside the capacity, is a forbidden call, as upstream.
  'block-pread-short',
  'block-pwrite-short',
  'block-pread-long',
  'block-pwrite-long',
  'block-pread-past',
  'block-pwrite-past',
  'block-pread-end',
  'block-pwrite-end',
  'block-pread-netfd',
  'block-pwrite-netfd',
  // The ring ABI's spin gives the CPU away; upstream's policy has no sched_yield.
  'sched-yield',
  'exit-plain',
  'open',
  'socket',
  'mmap',
  'getpid',
];

const image = imageMaker('sn-solo5-probe');

for (const dir of ['solo5', 'solo5-v1']) {
  const probe = path.join(root, 'guest', 'build', dir, 'sysprobe.spt');
  t.test(`${dir} sysprobe: each rule allowed and mutated`, { skip: fs.existsSync(probe) ? false : `${probe} is not built` }, async (t) => {
    const sw = new VirtualSwitch();
    t.teardown(() => sw.close());
    // A peer on the switch, so that a frame the guest writes has somewhere to go.
    sw.endpoint('02:00:00:00:00:01');
    const disk = image(`${dir}-disk`, 64 * 1024);
    const go = (name: string) =>
      run({
        kernel: probe,
        args: [name],
        memMB: 8,
        net: { service: { switch: sw } },
        block: { storage: { path: disk } },
        timeoutMs: 30_000,
      });
    for (const name of ALLOWED) {
      const r = await go(name);
      t.same(
        [r.exit.status, r.output.includes(`PROBE OK ${name}`)],
        [0, true],
        `${name}: allowed (${r.output.trim().split('\n').pop() ?? ''})`,
      );
    }
    for (const name of KILLED) {
      const r = await go(name);
      t.same([r.exit.status, r.exit.kind === 'signal' && r.exit.signal], [159, 'SIGSYS'], `${name}: killed by SIGSYS`);
      t.notMatch(r.output, 'PROBE OK', `${name}: never returned`);
    }
  });
}
