// broker-drain.test.ts: drain() reports a protocol violation the guest made just before it exited, every time.
import fs from 'node:fs';
import t from 'tap';
import * as abi from '../lib/abi';
import { native } from '../lib/native';
import { imageMaker } from './support/images';
import { BlkGuest, GuestView } from './support/ring-guest';

const n = native();
const image = imageMaker('sn-drain-');
const Q = abi.SN_QUEUE.offsets;
const NET = abi.SN_NET_DEV.offsets;
const BLK = abi.SN_BLK_DEV.offsets;

function guest() {
  const file = image(`d${Math.random().toString(16).slice(2)}.img`, 1 << 20);
  const fd = fs.openSync(file, 'r+');
  const sw = n.createSwitch({ mtu: 1500 });
  const g = new GuestView({
    devices: [
      { index: 1, name: 'net', kind: 'net', mtu: 1500, mac: Buffer.from([2, 0, 0, 0, 0, 1]), backend: { type: 'switch', switchId: sw } },
      { index: 2, name: 'disk', kind: 'block', fd, capacity: 1 << 20, blockSize: 512 },
    ],
  });
  return {
    g,
    done: () => {
      g.stop();
      n.destroySwitch(sw);
      fs.closeSync(fd);
    },
  };
}

// Each writes one bad index into a queue the tender reads, as a guest's last act.
const attacks: [string, (g: GuestView) => void, RegExp][] = [
  [
    'tx producer too far ahead',
    (g) => g.w32(g.dev(1) + NET.tx + Q.prod, 100000),
    /^net: tx producer index 100000 is more than \d+ slots ahead/,
  ],
  [
    'rx consumer past the producer',
    (g) => g.w32(g.dev(1) + NET.rx + Q.cons, 7),
    /^net: rx consumer index 7 is not within \d+ slots behind/,
  ],
  [
    'request producer too far ahead',
    (g) => g.w32(g.dev(2) + BLK.req + Q.prod, 0x80000000),
    /^disk: request producer index 2147483648 is more than \d+ slots ahead/,
  ],
  [
    'completion consumer past the producer',
    (g) => g.w32(g.dev(2) + BLK.cpl + Q.cons, 3),
    /^disk: completion consumer index 3 is not within \d+ slots behind/,
  ],
];

t.test('a bad index written right before the exit is reported by drain(), 20 of 20', async (t) => {
  let caught = 0;
  for (let i = 0; i < 20; i++) {
    const [what, attack, re] = attacks[i % attacks.length];
    const { g, done } = guest();
    g.h.start();
    attack(g);
    // The guest exits at once: the tender's next act is drain().
    const v = g.h.drain();
    if (v !== undefined && re.test(v)) caught++;
    else t.fail(`round ${i} (${what}): drain() returned ${JSON.stringify(v)}`);
    t.equal(g.h.drain(), v, 'drain() again returns the same violation');
    t.equal(g.h.counters()['pump.violated'], 1, 'and the counters say so');
    done();
  }
  t.equal(caught, 20, 'every violation caught');
});

t.test('a guest that kept to the protocol drains clean, after real traffic', async (t) => {
  const { g, done } = guest();
  t.teardown(done);
  g.h.start();
  const blk = new BlkGuest(g, 2);
  for (let i = 0; i < 70; i++) {
    const st = await blk.run({ op: abi.SN_BLK_OP_READ, offset: BigInt(i * 512), addr: 0x400000n, len: 512n, id: BigInt(i + 1) });
    if (st !== abi.SN_BLK_ST_OK) t.fail(`request ${i}: status ${st}`);
  }
  t.equal(g.h.drain(), undefined, 'no violation');
  t.equal(g.h.counters()['disk.reads'], 70);
  g.h.stop();
  t.equal(g.h.drain(), undefined, 'drain() after stop() has nothing to look at');
});

t.test('a broker that never started drains too', async (t) => {
  const { g, done } = guest();
  t.teardown(done);
  g.w32(g.dev(1) + NET.tx + Q.prod, 999);
  t.match(g.h.drain(), /^net: tx producer index 999/);
});
