// launch-failures.test.ts: every launch() failure rejects with a Solo5Error and releases what it took (issue 8 item 10).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tap, { type Test } from 'tap';
import { SN_PLAN } from '../lib/abi';
import * as errorsModule from '../lib/errors';
import * as nativeModule from '../lib/native';
import * as hvtModule from '../lib/tender/hvt';
import type { LaunchOptions } from '../lib/tender/options';
import { imageMaker } from './support/images';
import { app } from './support/paths';
import { startTime, waitGone } from './support/proc';

const blk = app('blk');
const built = [blk, app('hello'), app('hello', 'hvt'), app('net_2if')].every((f) => fs.existsSync(f))
  ? false
  : 'guest/build is not built (npm run build:guest)';
/** This process's fds and what each is; an inotify fd with its number of watches (fs.watch). */
const openFds = () =>
  fs
    .readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        const what = fs.readlinkSync(`/proc/self/fd/${fd}`);
        if (what !== 'anon_inode:inotify') return `${fd}:${what}`;
        const watches = fs
          .readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('inotify wd:'));
        return `${fd}:${what} (${watches.length} watches)`;
      } catch {
        return `${fd}:?`;
      }
    })
    .filter((l) => !l.endsWith(':?'))
    .sort();

/**
 * libuv opens one inotify fd per event loop at the first fs.watch and keeps it for the loop's
 * life (passt's start watches a directory): open it before the fds are counted, so that what
 * is compared is its watches.
 */
function openLoopInotify(): void {
  fs.watch(os.tmpdir()).close();
}

type Native = ReturnType<typeof nativeModule.native>;
type Fault = (real: Native, calls: Map<string, number>) => Partial<Native>;

type LaunchModule = typeof import('../lib/tender/launch');

/**
 * launch() and prepare() with the addon's methods replaced as `fault` says (and other modules
 * as `modules` says, by path relative to lib/tender); records the pid of any guest spawned.
 */
function faultyLaunch(
  t: typeof tap,
  fault: Fault,
  modules: Record<string, unknown> = {},
): { launch: LaunchModule['launch']; prepare: LaunchModule['prepare']; spawned: number[] } {
  const real = nativeModule.native();
  const calls = new Map<string, number>();
  const spawned: number[] = [];
  const patch = fault(real, calls);
  const count = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1);
  const wrapped = new Proxy(real, {
    get(target, prop, receiver) {
      const name = String(prop);
      const own = (patch as Record<string, unknown>)[name];
      const value: unknown = own ?? Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        count(name);
        const r: unknown = (value as (...a: unknown[]) => unknown).apply(own ? patch : target, args);
        if (name === 'spawnHelper' && typeof r === 'object' && r !== null && 'pid' in r) spawned.push(Number(r.pid));
        return r;
      };
    },
  });
  // Absolute paths resolved here, in dist/test: tap finds the caller through the source map
  // (test/*.ts), and relative paths would then name lib/*.ts instead of the compiled modules.
  const others = Object.fromEntries(Object.entries(modules).map(([m, v]) => [require.resolve(path.join('../lib/tender', m)), v]));
  const mod = t.mockRequire<LaunchModule>(require.resolve('../lib/tender/launch'), {
    [require.resolve('../lib/native')]: { ...nativeModule, native: () => wrapped },
    // The real error classes, so that instanceof means what it says.
    [require.resolve('../lib/errors')]: errorsModule,
    ...others,
  });
  return { launch: mod.launch, prepare: mod.prepare, spawned };
}

/** Fail the n-th call of one addon method with this error. */
const failCall =
  (method: string, n: number, err: () => Error): Fault =>
  (real, calls) => ({
    [method]: (...args: unknown[]) => {
      if ((calls.get(method) ?? 0) === n) throw err();
      return (real as unknown as Record<string, (...a: unknown[]) => unknown>)[method](...args);
    },
  });

/** The broker's handle with start() throwing, so the failure comes after the spawn. */
const brokerStartFails: Fault = (real) => ({
  createGuestBroker: (config: Parameters<Native['createGuestBroker']>[0], onEvent: Parameters<Native['createGuestBroker']>[1]) => {
    const h = real.createGuestBroker(config, onEvent);
    return new Proxy(h, {
      get(target, prop) {
        if (prop === 'start') {
          return () => {
            throw new Error('pump thread: EAGAIN');
          };
        }
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  },
});

tap.test('each step fails cleanly', { skip: built }, async (t) => {
  const image = imageMaker('sn-launch-fail')('disk', 1 << 20);
  const withDisk: LaunchOptions = { kernel: blk, memMB: 8, block: { storage: { path: image } } };
  const cases: [string, Fault, LaunchOptions, { code: string; message: RegExp }][] = [
    [
      'guest memory',
      failCall('memfdCreate', 1, () => new Error('memfd_create failed: EMFILE')),
      withDisk,
      { code: 'EHOST', message: /^create guest memory: memfd_create failed: EMFILE$/ },
    ],
    [
      'load plan',
      failCall('memfdCreate', 2, () => new Error('memfd_create failed: ENOMEM')),
      withDisk,
      { code: 'EHOST', message: /^write the load plan: memfd_create failed: ENOMEM$/ },
    ],
    [
      'a ring area that does not fit',
      failCall('createGuestBroker', 1, () =>
        Object.assign(new Error('the rings of 1 device(s) need at least 300000 bytes, more than the 8192 bytes allowed (ringsMax)'), {
          code: 'ERINGS',
        }),
      ),
      withDisk,
      {
        code: 'EUSAGE',
        message:
          /^mem: 8 MiB is too small for .*blk\.spt: the rings of its 1 device\(s\) need at least 300000 bytes after the image .*; use --mem=\d+ or more$/,
      },
    ],
    [
      'broker set-up',
      failCall('createGuestBroker', 1, () => new Error('mmap failed: ENOMEM')),
      withDisk,
      { code: 'EHOST', message: /^start the device broker: mmap failed: ENOMEM$/ },
    ],
    [
      'random bytes for the boot info',
      failCall('getRandom64', 1, () => new Error('getrandom failed: ENOSYS')),
      { kernel: app('hello'), memMB: 8 },
      { code: 'EHOST', message: /^write the guest image: getrandom failed: ENOSYS$/ },
    ],
    [
      'the spawn',
      failCall('spawnHelper', 1, () => new Error('posix_spawn failed: EAGAIN')),
      withDisk,
      { code: 'EHOST', message: /^cannot start the helper: posix_spawn failed: EAGAIN$/ },
    ],
    [
      'the broker start, after the spawn',
      brokerStartFails,
      withDisk,
      { code: 'EHOST', message: /^start the device broker: pump thread: EAGAIN$/ },
    ],
    [
      'a missing image',
      () => ({}),
      { ...withDisk, block: { storage: { path: `${image}.missing` } } },
      { code: 'EDEVICE', message: /cannot open/ },
    ],
  ];
  for (const [name, fault, opts, want] of cases) {
    const { launch, spawned } = faultyLaunch(tap, fault);
    await failsCleanly(t, name, () => launch(opts), spawned, want);
  }
});

type Want = { code: string; message: RegExp };

/**
 * `attempt` rejects with a Solo5Error with this code and one-line message, every guest it
 * spawned is gone, and the fds of this process are those it had before (plus `keep`'s, which
 * the caller owns and closes once this returns).
 */
async function failsCleanly(
  t: Test,
  name: string,
  attempt: () => Promise<unknown>,
  spawned: number[],
  want: Want,
  keep: () => number[] = () => [],
): Promise<void> {
  const before = openFds();
  const err: unknown = await attempt().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof errorsModule.Solo5Error, `${name}: a Solo5Error (${String(err)})`);
  t.match(err, want, `${name}: code and one-line message`);
  for (const pid of spawned) {
    const started = startTime(pid);
    t.ok(started === undefined || (await waitGone(pid, started)), `${name}: the spawned guest ${pid} was killed`);
  }
  // The addon closes a reaped child's pidfd in libuv's close phase, right after the exit callback.
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  for (const fd of keep()) fs.closeSync(fd);
  t.same(openFds(), before, `${name}: no fd left open`);
}

tap.test('hvt: the KVM device cannot be opened (no /dev/kvm needed)', { skip: built }, async (t) => {
  const hvt = { kernel: app('hello', 'hvt'), target: 'hvt' as const, memMB: 8 };
  const openKvmFails = { hvt: { ...hvtModule, openKvm: (dev: string) => hvtModule.openKvm(`${dev}.missing`) } };
  const { launch, spawned } = faultyLaunch(tap, () => ({}), openKvmFails);
  await failsCleanly(t, 'the KVM device', () => launch(hvt), spawned, {
    code: 'EHOST',
    message: /^\/dev\/kvm\.missing: no such device \(hvt needs KVM: load kvm_intel or kvm_amd, or use solo5-spt\)$/,
  });
  // The guest memory is made just before this step: it is what the KVM step must give back.
  let created = 0;
  const counting: Fault = (real) => ({
    memfdCreate: (name: string, size: number) => {
      created++;
      return real.memfdCreate(name, size);
    },
  });
  const denied = faultyLaunch(tap, counting, {
    hvt: {
      ...hvtModule,
      openKvm: () => {
        throw hvtModule.kvmOpenError('/dev/kvm', 'EACCES');
      },
    },
  });
  await failsCleanly(t, 'the KVM device, permission denied', () => denied.launch(hvt), denied.spawned, {
    code: 'EHOST',
    message: /^\/dev\/kvm: permission denied \(add the user to the kvm group, or use solo5-spt\)$/,
  });
  t.equal(created, 1, 'the guest memory was created before the KVM step failed (and closed: no fd left open)');
});

tap.test('passt: one passt fails before it is ready while the other hangs', { skip: built }, async (t) => {
  // A stand-in passt: the first started never gets ready (it records its pid), the second fails.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-launch-fail-passt-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(
    path.join(dir, 'passt'),
    [
      '#!/bin/sh',
      'case "$1" in --help) echo "  -F, --fd FD   Use FD as pre-opened connected socket"; exit 0;; esac',
      // It notes the SIGTERM of the tender's stop(): the ready timeout would end it with SIGKILL.
      `if mkdir "${dir}/first" 2>/dev/null; then`,
      `  echo $$ > "${dir}/first/pid"; sleep 600 & s=$!; echo $s > "${dir}/first/sleep"`,
      `  trap 'echo TERM > "${dir}/first/signal"; kill $s; exit 0' TERM; wait $s; exit 0`,
      'fi',
      'while [ $# -gt 0 ]; do if [ "$1" = -l ]; then log=$2; fi; shift; done',
      'echo "0.0012: ERROR:   External interface not usable" >> "$log"',
      'exit 1',
    ].join('\n'),
    { mode: 0o755 },
  );
  openLoopInotify();
  const savedPath = process.env.PATH;
  process.env.PATH = `${dir}:${savedPath ?? '/usr/bin:/bin'}`;
  t.teardown(() => {
    process.env.PATH = savedPath;
  });
  const { launch, spawned } = faultyLaunch(tap, () => ({}));
  const opts: LaunchOptions = { kernel: app('net_2if'), memMB: 16, net: { service0: { passt: true }, service1: { passt: true } } };
  await failsCleanly(t, 'start passt', () => launch(opts), spawned, {
    code: 'EDEVICE',
    message: /^net device 'service[01]': passt ended \(status 1\) before it was ready: passt said: ERROR: +External interface not usable$/,
  });
  t.equal(spawned.length, 0, 'no guest was spawned');
  const hung = Number(fs.readFileSync(path.join(dir, 'first', 'pid'), 'utf8'));
  t.teardown(() => {
    // Only if the tender failed to end it: the stand-in's own sleep.
    try {
      process.kill(Number(fs.readFileSync(path.join(dir, 'first', 'sleep'), 'utf8')), 'SIGKILL');
    } catch {
      // gone already
    }
  });
  const started = startTime(hung);
  t.ok(started === undefined || (await waitGone(hung, started)), `the passt that never got ready (${hung}) ended`);
  const signal = path.join(dir, 'first', 'signal');
  const got = fs.existsSync(signal) ? fs.readFileSync(signal, 'utf8').trim() : 'no SIGTERM';
  t.equal(got, 'TERM', 'ended by the tender (SIGTERM), not left to time out');
});

tap.test('the start gate (solo5-oci, monitorless containers)', { skip: built }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-launch-fail-gate-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const gateCases: [string, Fault, Want][] = [
    [
      'the gated spawn',
      failCall('spawnHelper', 1, () => new Error('posix_spawn failed: EAGAIN')),
      { code: 'EHOST', message: /^cannot start the helper: posix_spawn failed: EAGAIN$/ },
    ],
    [
      'the helper ends before its gate',
      // Killing the helper after the spawn would race it to its gate. A plan naming another
      // parent makes it leave at its first check, before the gate, every time.
      (real) => ({
        spawnHelper: (...args: Parameters<Native['spawnHelper']>) => {
          const planFd = args[2][1];
          const pid = Buffer.alloc(4);
          pid.writeInt32LE(process.pid === 1 ? 2 : 1);
          fs.writeSync(planFd, pid, 0, 4, SN_PLAN.offsets.parent_pid);
          return real.spawnHelper(...args);
        },
      }),
      { code: 'EHOST', message: /^the guest ended before its start gate \(exit status 1\)$/ },
    ],
  ];
  for (const [i, [name, fault, want]] of gateCases.entries()) {
    const { prepare, spawned } = faultyLaunch(tap, fault);
    let gateFd = -1;
    let stderrFd = -1;
    await failsCleanly(
      t,
      name,
      async () => {
        const guest = await prepare({ kernel: app('hello'), memMB: 8 });
        t.ok(guest.standalone, `${name}: hello on spt may be spawned gated`);
        gateFd = nativeModule.native().openGate(path.join(dir, `gate${i}`));
        stderrFd = fs.openSync('/dev/null', 'w');
        return guest.startGated(gateFd, stderrFd);
      },
      spawned,
      want,
      () => [gateFd, stderrFd],
    );
  }
});
