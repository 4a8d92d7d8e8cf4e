// hvtring-hostile.test.ts: a native hostile guest rewrites hvt net ring entries while the pump reads them; the tender survives.
import fs from 'node:fs';
import t from 'tap';
import { BUF, HvtRingGuest, ringFrame, VISIBLE } from './support/hvtring-guest';
import { testNative } from './support/native-test';
import { until } from './support/ring-guest';
import * as abi from '../lib/abi';

const RO = 0x100000;
const seed = Number(process.env.HVTRING_SEED ?? Date.now() % 1_000_000) || 1;
t.comment(`seed ${seed} (HVTRING_SEED=${seed} repeats this run)`);

const categories = [
  'net0.ringTxPackets',
  'net0.ringTxDropped',
  'net0.ringRxPackets',
  'net0.ringRxAgain',
  'net0.ringRxEinval',
  'ring.badHandles',
  'ring.badOps',
];

t.test('garbage inside guest memory: every entry is accounted for, nothing is a violation, the ring still works', async (t) => {
  const g = new HvtRingGuest({ guestReadOnly: [{ addr: RO, len: 0x1000 }] });
  g.h.start();
  t.teardown(() => g.stop());
  // Some frames for the reads to find.
  for (let i = 0; i < 50; i++) fs.writeSync(g.peer, ringFrame(i));
  const r = testNative().hvtRingHostile(g.map, g.h, 200_000, seed, { ring: VISIBLE, buf: BUF, ro: RO, wild: false });
  t.equal(r.violated, false, `no violation (${r.posted} entries in ${r.seconds.toFixed(2)} s)`);
  t.equal(r.posted, 200_000, 'every entry posted');
  g.tail = g.ring('ent_tail');
  await until(() => g.ring('ent_head') === g.tail, 'the pump to take every entry');
  g.comHead = g.ring('com_tail');
  g.w32(VISIBLE + abi.SN_SOLO5_HVT_RING.offsets.com_head, g.comHead);
  // Drain what the hostile guest's writes left at the network side, then one good frame.
  while (!g.nothingReceived());
  g.write(ringFrame(777));
  t.ok((await g.received()).equals(ringFrame(777)), 'a good frame still goes out');
  const c = g.h.counters();
  const sum = categories.reduce((s, k) => s + (c[k] ?? 0), 0);
  t.equal(sum, g.ring('ent_head'), 'each entry the pump took is counted exactly once');
  t.ok(c['ring.badHandles'] > 0 && c['ring.badOps'] > 0 && c['ring.readOnly'] > 0, 'every kind of garbage was seen');
  t.equal(c['pump.violated'], 0);
  t.same(
    g.events.filter((e) => e.type === 'violation'),
    [],
  );
});

t.test('wild garbage and racing indices end in a violation, and stop() still returns', async (t) => {
  for (let round = 0; round < 5; round++) {
    const g = new HvtRingGuest();
    g.h.start();
    const r = testNative().hvtRingHostile(g.map, g.h, 1_000_000, seed + round, { ring: VISIBLE, buf: BUF, ro: RO, wild: true });
    t.equal(r.violated, true, `round ${round}: a violation after ${r.posted} entries`);
    t.match(g.h.drain() ?? '', /^net ring: (NET_(READ|WRITE): Invalid guest access|ent_tail \d+ is more than 1024|com_head)/);
    g.stop();
  }
});
