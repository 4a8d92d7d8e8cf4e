// memory.test.ts: --mem=2 runs hello, blk and net for both ABIs; too little memory says how much is needed and why.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { launch, run, VirtualSwitch } from '../lib';
import { Pinger } from '../lib/net/pinger';
import { imageMaker } from './support/images';
import { app, root } from './support/paths';

/** The build of an app for one ABI: ring (guest/build), Solo5 2 (guest/build/solo5), Solo5 1 (guest/build/solo5-v1). */
const build = (name: string, abi: 'ring' | 'solo5' | 'solo5-v1') =>
  abi === 'ring' ? app(name) : path.join(root, 'guest', 'build', abi, `${name}.spt`);
const ABIS = ['ring', 'solo5', 'solo5-v1'] as const;
const image = imageMaker('sn-mem2');

for (const abi of ABIS) {
  const missing = ['hello', 'blk', 'net'].map((a) => build(a, abi)).filter((f) => !fs.existsSync(f));
  const skip = missing.length ? `not built: ${missing.join(', ')}` : false;

  t.test(`${abi} ABI: --mem=2 runs hello, blk and net`, { skip }, async (t) => {
    const hello = await run({ kernel: build('hello', abi), memMB: 2, timeoutMs: 60_000 });
    t.same([hello.exit.status, /SUCCESS/.test(hello.output)], [0, true], `hello: ${hello.output.split('\n').slice(-3).join(' | ')}`);

    const blk = await run({
      kernel: build('blk', abi),
      memMB: 2,
      block: { storage: { path: image(`disk-${abi}`, 1 << 20) } },
      timeoutMs: 60_000,
    });
    t.same([blk.exit.status, /SUCCESS/.test(blk.output)], [0, true], `blk: ${blk.output.split('\n').slice(-3).join(' | ')}`);

    const sw = new VirtualSwitch();
    t.teardown(() => sw.close());
    const N = 20;
    const guest = await launch({
      kernel: build('net', abi),
      args: ['10.0.0.2', String(N)],
      memMB: 2,
      console: 'pipe',
      net: { service: { switch: sw, mac: '02:00:00:00:00:02' } },
    });
    let out = '';
    guest.console?.on('data', (b: Buffer) => (out += b.toString()));
    const pinger = new Pinger(sw.endpoint('02:00:00:00:00:01'), '10.0.0.1');
    const mac = await pinger.resolve('10.0.0.2');
    const r = await pinger.ping('10.0.0.2', mac, N);
    t.equal(r.received, N, `net: ${N} echo replies`);
    t.equal((await guest.exited).status, 0, `net exits 0 (${out.split('\n').slice(-2).join(' | ')})`);
  });
}

t.test(
  'too little memory: the message says how much and why',
  { skip: fs.existsSync(app('net_2if')) ? false : 'net_2if not built' },
  async (t) => {
    // Two jumbo-frame interfaces need more ring space than 2 MiB leaves, even at the smallest queues.
    const a = new VirtualSwitch({ mtu: 9000 });
    const b = new VirtualSwitch({ mtu: 9000 });
    t.teardown(() => {
      a.close();
      b.close();
    });
    const opts = { kernel: app('net_2if'), args: ['10.0.1.2', '10.0.2.2'], net: { service0: { switch: a }, service1: { switch: b } } };
    await t.rejects(launch({ ...opts, memMB: 2 }), {
      code: 'EUSAGE',
      message:
        /^mem: 2 MiB is too small for .*net_2if\.spt: the rings of its 2 device\(s\) need at least \d+ bytes after the image \(which ends at 1\.\d MiB\) and the guest 512 KiB above them; use --mem=3 or more$/,
    });
    const fits = await launch({ ...opts, memMB: 3, console: 'pipe' });
    fits.kill();
    t.equal((await fits.exited).status, 137, 'with the --mem it names, it starts');
    await t.rejects(launch({ kernel: app('hello'), memMB: 1 }), { code: 'EUSAGE', message: /mem: 1 MiB is out of range \(2 to/ });
  },
);
