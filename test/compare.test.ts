// compare.test.ts: the deterministic unikernels behave identically on spt and hvt (output after the banner, block images).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { compareTargets, VirtualSwitch } from '../lib';
import { Pinger } from '../lib/net/pinger';
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
