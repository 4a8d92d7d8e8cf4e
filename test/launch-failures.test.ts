// launch-failures.test.ts: every launch() failure rejects with a Solo5Error and releases what it took (issue 8 item 10).
import fs from 'node:fs';
import tap from 'tap';
import * as errorsModule from '../lib/errors';
import * as nativeModule from '../lib/native';
import type { Guest } from '../lib/tender/launch';
import type { LaunchOptions } from '../lib/tender/options';
import { imageMaker } from './support/images';
import { app } from './support/paths';
import { startTime, waitGone } from './support/proc';

const blk = app('blk');
const built = fs.existsSync(blk) && fs.existsSync(app('hello')) ? false : 'guest/build is not built (npm run build:guest)';
const openFds = () =>
  fs
    .readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return `${fd}:${fs.readlinkSync(`/proc/self/fd/${fd}`)}`;
      } catch {
        return `${fd}:?`;
      }
    })
    .filter((l) => !l.endsWith(':?'))
    .sort();

type Native = ReturnType<typeof nativeModule.native>;
type Fault = (real: Native, calls: Map<string, number>) => Partial<Native>;

/** launch() with the addon's methods replaced as `fault` says; records the pid of any guest spawned. */
function faultyLaunch(t: typeof tap, fault: Fault): { launch: (o: LaunchOptions) => Promise<Guest>; spawned: number[] } {
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
  const mod = t.mockRequire<typeof import('../lib/tender/launch')>(require.resolve('../lib/tender/launch'), {
    [require.resolve('../lib/native')]: { ...nativeModule, native: () => wrapped },
    // The real error classes, so that instanceof means what it says.
    [require.resolve('../lib/errors')]: errorsModule,
  });
  return { launch: mod.launch, spawned };
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
    const before = openFds();
    const { launch, spawned } = faultyLaunch(tap, fault);
    const err: unknown = await launch(opts).then(
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
    t.same(openFds(), before, `${name}: no fd left open`);
  }
});
