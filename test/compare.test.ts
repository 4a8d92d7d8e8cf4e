// compare.test.ts: every behaviour row through compareTargets on each spt/hvt pair (ring and Solo5 ABIs): status, output, block images, pings.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { compareTargets, VirtualSwitch } from '../lib';
import { TARGETS, type Target } from '../lib/abi';
import * as errorsModule from '../lib/errors';
import { Pinger } from '../lib/net/pinger';
import type { BlockAttach } from '../lib/tender/options';
import type { RunOptions, RunResult, TargetRun, VirtioTargetRun } from '../lib';
import { behaviour, type AppBehaviour, type Expectation } from './support/behaviour';
import { kvmUnavailable } from './support/kvm';
import { qemuUnavailable, virtioApp } from './support/qemu';
import { app, root } from './support/paths';

const kvm = kvmUnavailable() ?? false;
/** Why the virtio builds do not join the comparisons here, or undefined (test/virtio.test.ts runs their rows without KVM). */
const noVirtio = qemuUnavailable();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The builds of one application that are compared with each other: one per
 * target, all of one ABI, and which row of the behaviour table each target's
 * run must match. A new target joins TARGETS and gets an entry in each `expect`.
 */
interface Abi {
  name: string;
  /** Directory under guest/build. */
  dir: string;
  /** A row's expectation on each target; undefined where the app has no build of this ABI (ring-only apps). */
  expect: Record<Target, (b: AppBehaviour) => Expectation | undefined>;
  /** The third target, for the ABI whose builds have a virtio one: a row's expectation there, undefined where it has none. */
  virtio?: (b: AppBehaviour) => Expectation | undefined;
}
const ABIS: Abi[] = [
  { name: 'ring', dir: '', expect: { spt: (b) => b.spt, hvt: (b) => b.hvt } },
  { name: 'solo5', dir: 'solo5', expect: { spt: (b) => b.spt, hvt: (b) => b.solo5Hvt }, virtio: (b) => b.virtio },
  { name: 'solo5-v1', dir: 'solo5-v1', expect: { spt: (b) => b.spt, hvt: (b) => b.solo5Hvt } },
];
const kernels = (name: string, abi: Abi = ABIS[0]): Record<Target, string> =>
  Object.fromEntries(TARGETS.map((target) => [target, path.join(root, 'guest', 'build', abi.dir, `${name}.${target}`)])) as Record<
    Target,
    string
  >;
/** The kernels for compareTargets: spt and hvt, and virtio where this ABI has it, the row expects it and QEMU is here. */
function withVirtio(name: string, abi: Abi, row?: AppBehaviour): Record<Target, string> & { virtio?: string } {
  const virtio = abi.virtio !== undefined && noVirtio === undefined && (row === undefined || abi.virtio(row) !== undefined);
  return { ...kernels(name, abi), ...(virtio && { virtio: virtioApp(name) }) };
}
/** Why a comparison of `name` built for `abi` cannot run here, or false. */
const skipFor = (name: string, abi: Abi): string | false =>
  kvm ||
  (Object.values(kernels(name, abi)).every((k) => fs.existsSync(k)) ? false : `${abi.name} ${name} is not built (npm run build:guest)`);
const skip = skipFor('hello', ABIS[0]);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-compare-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

for (const [name, args] of [
  ['hello', ['compare', 'me']],
  ['globals', []],
  ['fpu', []],
  ['tls', []],
] as const) {
  t.test(`${name}: same exit and application output on spt and hvt`, { skip }, async (tt) => {
    const c = await compareTargets({ kernels: kernels(name), args: [...args], memMB: 32, timeoutMs: 120_000 });
    tt.same(c.differences, [], 'no differences');
    tt.equal(c.runs.spt.exit.status, 0);
    tt.match(c.runs.hvt.appOutput, 'SUCCESS');
    tt.not(c.runs.spt.output, c.runs.hvt.output, 'the banners themselves do differ (target names)');
  });
}

/** A run against its row: status, markers in the console or the tender's (or QEMU's) one-line error, absent strings. */
function check(tt: Test, what: string, r: TargetRun | VirtioTargetRun, e: Expectation): void {
  const error = 'error' in r.exit ? `${r.exit.error}\n` : '';
  const text = `${r.output}${error}`;
  tt.equal(r.timedOut, false, `${what}: finishes on its own`);
  tt.equal(r.exit.status, e.status, `${what}: exit status ${e.status}${e.why ? ` (${e.why})` : ''}`);
  for (const m of e.markers) tt.match(text, m, `${what}: has ${JSON.stringify(m)}`);
  for (const m of e.absent ?? []) tt.notMatch(text, m, `${what}: lacks ${JSON.stringify(m)}`);
}

for (const abi of ABIS) {
  t.test(`${abi.name} builds: every behaviour row, compared across targets`, { skip: skipFor('hello', abi) }, async (tt) => {
    if (abi.virtio && noVirtio !== undefined) tt.comment(`virtio column not compared here: ${noVirtio}`);
    for (const row of behaviour) {
      const maybe = TARGETS.map((target) => abi.expect[target](row));
      if (maybe.some((e) => e === undefined)) continue;
      const expected = maybe as Expectation[];
      const k = withVirtio(row.app, abi, row);
      const c = await compareTargets({ kernels: k, args: row.spt.args, memMB: 32, timeoutMs: 120_000 });
      for (const [i, target] of TARGETS.entries()) check(tt, `${abi.name} ${row.app} on ${target}`, c.runs[target], expected[i]);
      const v = k.virtio !== undefined ? abi.virtio?.(row) : undefined;
      if (v !== undefined) {
        tt.ok(c.runs.virtio, `${row.app}: the virtio build ran`);
        if (c.runs.virtio) check(tt, `${abi.name} ${row.app} on virtio`, c.runs.virtio, v);
        expected.push(v);
      }
      const statusDiffers = expected.some((e) => e.status !== expected[0].status);
      tt.equal(
        c.differences.some((d) => d.what === 'status'),
        statusDiffers,
        `${abi.name} ${row.app}: ${statusDiffers ? 'a' : 'no'} status difference reported`,
      );
      // One expectation for every target (the table's `both`) promises the same application output too.
      if (expected.every((e) => e === expected[0])) tt.same(c.differences, [], `${abi.name} ${row.app}: no differences`);
    }
  });
}

for (const abi of ABIS) {
  t.test(`${abi.name} blk: the same image content before, the same after`, { skip: skipFor('blk', abi) }, async (tt) => {
    const img = path.join(tmp, `${abi.name}-blk.img`);
    const data = Buffer.alloc(256 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    fs.writeFileSync(img, data);
    const k = withVirtio('blk', abi);
    const c = await compareTargets({ kernels: k, memMB: 32, block: { storage: { image: img } }, timeoutMs: 60000 });
    tt.same(c.differences, [], 'same status, output and final image');
    if (k.virtio !== undefined)
      tt.equal(c.runs.virtio?.blockDigests.storage, c.runs.spt.blockDigests.storage, 'virtio wrote the same image');
    tt.equal(c.runs.spt.exit.status, 0);
    tt.match(c.runs.spt.blockDigests.storage, /^[0-9a-f]{64}$/);
    tt.not(c.runs.spt.blockDigests.storage, sha(data), 'the guest wrote to its image');
    tt.equal(fs.readFileSync(img).equals(data), true, "the caller's image is untouched: each target wrote a copy");
  });
}

for (const abi of ABIS) {
  t.test(`${abi.name} net: the same pings get the same answers`, { skip: skipFor('net', abi) }, async (tt) => {
    const sw = new VirtualSwitch();
    tt.teardown(() => sw.close());
    const drive = async () => {
      const ep = sw.endpoint('02:00:00:00:00:01');
      try {
        const p = new Pinger(ep, '10.0.0.1');
        const mac = await p.resolve('10.0.0.2');
        const r = await p.ping('10.0.0.2', mac, 50);
        tt.same([r.received, r.corrupt], [50, 0], 'every ping answered, each reply intact');
      } finally {
        ep.close();
      }
    };
    const k = withVirtio('net', abi);
    const c = await compareTargets({
      kernels: k,
      args: ['10.0.0.2', '50'],
      memMB: 32,
      net: { service: { switch: sw, mac: '02:00:00:00:00:02' } },
      drive,
      timeoutMs: 60000,
    });
    tt.same(c.differences, [], 'same status and output');
    tt.equal(c.runs.hvt.exit.status, 0);
    if (k.virtio !== undefined) tt.equal(c.runs.virtio?.exit.status, 0, 'virtio answered the same pings through a -netdev stream port');
  });
}

t.test('a difference is reported structurally', { skip }, async (tt) => {
  const c = await compareTargets({ kernels: { spt: app('hello', 'spt'), hvt: app('globals', 'hvt') }, args: ['x'], memMB: 32 });
  tt.equal(c.same, false);
  tt.match(c.differences, [{ what: 'output', where: '1' }]);
});

/**
 * compareTargets with run() replaced (in-process, no KVM needed): the fake
 * guest appends its target and device name to each block image it is given
 * and reports what it saw.
 */
function isMap(v: ReadonlyMap<string, BlockAttach> | Record<string, BlockAttach>): v is ReadonlyMap<string, BlockAttach> {
  return v instanceof Map;
}

function withFakeRun() {
  const seen: { target: string; names: string[] }[] = [];
  const run = (o: RunOptions): Promise<RunResult> => {
    const given = o.block ?? new Map<string, BlockAttach>();
    const block: [string, BlockAttach][] = isMap(given) ? [...given] : Object.entries(given);
    seen.push({ target: String(o.target), names: block.map(([n]) => n) });
    for (const [name, b] of block) fs.appendFileSync(b.path, name === 'differs' ? String(o.target) : name);
    return Promise.resolve({ exit: { kind: 'exit', status: 0, aborted: false }, output: 'Solo5: x\nok\n', timedOut: false });
  };
  // Absolute paths resolved here, in dist/test (see launch-failures.test.ts).
  const mod = t.mockRequire<typeof import('../lib/compare')>(require.resolve('../lib/compare'), {
    [require.resolve('../lib/tender/run')]: { run },
    [require.resolve('../lib/errors')]: errorsModule,
  });
  return { compare: mod.compareTargets, seen };
}

t.test('block devices named constructor or __proto__ are names like any other (in-process, run() replaced)', async (tt) => {
  const { compare, seen } = withFakeRun();
  const img = path.join(tmp, 'names.img');
  fs.writeFileSync(img, 'base:');
  // JSON.parse makes __proto__ an own key, as a caller's config file would.
  const block = JSON.parse(
    `{"constructor": {"image": ${JSON.stringify(img)}}, "__proto__": {"image": ${JSON.stringify(img)}}, "differs": {"image": ${JSON.stringify(img)}}}`,
  ) as Record<string, { image: string }>;
  const c = await compare({ kernels: { spt: 'a.spt', hvt: 'a.hvt' }, block });
  const names = ['constructor', '__proto__', 'differs'];
  tt.same(
    seen,
    [
      { target: 'spt', names },
      { target: 'hvt', names },
    ],
    'each run got all three devices',
  );
  for (const target of ['spt', 'hvt'] as const) {
    const d = c.runs[target].blockDigests;
    tt.same(Object.keys(d), names, `${target}: a digest for each, as own keys`);
    tt.equal(d.constructor, sha(Buffer.from('base:constructor')), `${target}: constructor's digest`);
    tt.equal(d['__proto__'], sha(Buffer.from('base:__proto__')), `${target}: __proto__'s digest`);
  }
  tt.same(
    c.differences.map((x) => [x.what, x.where]),
    [['block', 'differs']],
    'only the device whose content differs is reported',
  );
  tt.same(Object.keys(c.differences[0]), ['what', 'where', 'spt', 'hvt'], "each side's value under its target's name");
  tt.equal(fs.readFileSync(img, 'utf8'), 'base:', "the caller's image is untouched");
});

t.test('a block image that is not a regular file is refused at once, in one line (in-process, run() replaced)', async (tt) => {
  const { compare, seen } = withFakeRun();
  const fifo = path.join(tmp, 'image.fifo');
  execFileSync('mkfifo', [fifo]);
  const dir = path.join(tmp, 'image.dir');
  fs.mkdirSync(dir);
  // A FIFO blocked the copy forever; /dev/zero was copied as an empty image; a directory threw a raw EISDIR.
  for (const image of ['/dev/zero', dir, fifo]) {
    await tt.rejects(
      compare({ kernels: { spt: 'a.spt', hvt: 'a.hvt' }, block: { data: { image } } }),
      { code: 'EUSAGE', message: `block.data.image: ${image}: not a regular file` },
      image,
    );
  }
  tt.same(seen, [], 'no guest ran');
});

t.test('a block image that cannot be opened is refused in one line naming the field and errno (in-process, run() replaced)', async (tt) => {
  const { compare, seen } = withFakeRun();
  const missing = path.join(tmp, 'missing.img');
  await tt.rejects(compare({ kernels: { spt: 'a.spt', hvt: 'a.hvt' }, block: { data: { image: missing } } }), {
    code: 'EUSAGE',
    message: `block.data.image: ${missing}: cannot open: ENOENT`,
  });
  tt.same(seen, [], 'no guest ran');
});

t.test('a missing spt or hvt kernel, or one that is not a path, is refused in one line (in-process, run() replaced)', async (tt) => {
  const { compare, seen } = withFakeRun();
  const message = 'kernels: give { spt: PATH, hvt: PATH }, and virtio: PATH to add a virtio build';
  for (const kernels of [{ spt: 'a.spt' }, { hvt: 'a.hvt' }, {}, { spt: 'a.spt', hvt: 7 }, { spt: 'a.spt', hvt: 'a.hvt', virtio: 7 }]) {
    await tt.rejects(
      compare({ kernels: kernels as unknown as Record<Target, string> }),
      { code: 'EUSAGE', message },
      JSON.stringify(kernels),
    );
  }
  tt.same(seen, [], 'no guest ran');
});

t.test('virtio: a net device it cannot take is refused in one line (in-process, run() replaced)', async (tt) => {
  const { compare } = withFakeRun();
  await tt.rejects(compare({ kernels: { spt: 'a.spt', hvt: 'a.hvt', virtio: 'a.virtio' }, net: { service: { unix: '/nowhere' } } }), {
    code: 'EUSAGE',
    message: 'net.service: with kernels.virtio, a net device is a switch or a tap interface by name',
  });
});

t.test('virtio: a kernel that cannot run is the error, and is not driven (in-process, run() replaced)', async (tt) => {
  const { compare } = withFakeRun();
  const missing = path.join(tmp, 'missing.virtio');
  const seen: string[] = [];
  const drive = (target: string) => (seen.push(target), Promise.resolve());
  await tt.rejects(compare({ kernels: { spt: 'a.spt', hvt: 'a.hvt', virtio: missing }, drive }), {
    message: new RegExp(`${missing}: cannot open: ENOENT`),
  });
  tt.same(seen, [], 'drive was not called for a run that never started');
});

t.test('virtio: timeoutMs kills QEMU, and a drive that throws ends the guest (spt and hvt replaced)', { skip: noVirtio }, async (tt) => {
  const { compare } = withFakeRun();
  const kernels = { spt: 'a.spt', hvt: 'a.hvt', virtio: virtioApp('sleep') };
  const slow = await compare({ kernels, args: ['60000'], timeoutMs: 1000 });
  tt.equal(slow.runs.virtio?.timedOut, true, 'timed out');
  tt.same([slow.runs.virtio?.exit.kind, slow.runs.virtio?.exit.status], ['signal', 137], 'QEMU killed');
  const seen: string[] = [];
  const drive = (target: string) => (
    seen.push(target),
    target === 'virtio' ? Promise.reject(new Error('drive failed')) : Promise.resolve()
  );
  await tt.rejects(compare({ kernels, args: ['60000'], drive }), { message: 'drive failed' }, "the drive's error is the caller's");
  tt.same(seen, ['virtio'], 'drive was called for virtio (run() replaced for spt and hvt)');
});
