// compare.test.ts: the deterministic unikernels behave identically on spt and hvt (output after the banner, block images).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { compareTargets, VirtualSwitch } from '../lib';
import * as errorsModule from '../lib/errors';
import { Pinger } from '../lib/net/pinger';
import type { BlockAttach } from '../lib/tender/options';
import type { RunOptions, RunResult } from '../lib/tender/run';
import { kvmUnavailable } from './support/kvm';
import { app } from './support/paths';

const skip = kvmUnavailable() ?? false;
const kernels = (name: string) => ({ spt: app(name, 'spt'), hvt: app(name, 'hvt') });
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

t.test('blk: the same image content before, the same after', { skip }, async (tt) => {
  const img = path.join(tmp, 'blk.img');
  const data = Buffer.alloc(256 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  fs.writeFileSync(img, data);
  const c = await compareTargets({ kernels: kernels('blk'), memMB: 32, block: { storage: { image: img } }, timeoutMs: 60000 });
  tt.same(c.differences, [], 'same status, output and final image');
  tt.equal(c.runs.spt.exit.status, 0);
  tt.match(c.runs.spt.blockDigests.storage, /^[0-9a-f]{64}$/);
  tt.equal(fs.readFileSync(img).equals(data), true, "the caller's image is untouched: each target wrote a copy");
});

t.test('net: the same pings get the same answers', { skip }, async (tt) => {
  const sw = new VirtualSwitch();
  tt.teardown(() => sw.close());
  const drive = async () => {
    const ep = sw.endpoint('02:00:00:00:00:01');
    try {
      const p = new Pinger(ep, '10.0.0.1');
      const mac = await p.resolve('10.0.0.2');
      const r = await p.ping('10.0.0.2', mac, 50);
      tt.equal(r.received, 50, 'every ping answered');
    } finally {
      ep.close();
    }
  };
  const c = await compareTargets({
    kernels: kernels('net'),
    args: ['10.0.0.2', '50'],
    memMB: 32,
    net: { service: { switch: sw, mac: '02:00:00:00:00:02' } },
    drive,
    timeoutMs: 60000,
  });
  tt.same(c.differences, [], 'same status and output');
  tt.equal(c.runs.hvt.exit.status, 0);
});

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

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

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
