// hvtring.test.ts: the pump serving upstream Solo5's hvt net ring: frames both ways, bad handles, AGAIN, kicks, W^X, config checks.
import fs from 'node:fs';
import t, { type Test } from 'tap';
import * as abi from '../lib/abi';
import { native } from '../lib/native';
import { BUF, HvtRingGuest, MEM, MTU, ringFrame, VISIBLE } from './support/hvtring-guest';
import { until } from './support/ring-guest';

const OK = abi.SN_SOLO5_R_OK;
const AGAIN = abi.SN_SOLO5_R_AGAIN;
const EINVAL = abi.SN_SOLO5_R_EINVAL;
const READ = abi.SN_SOLO5_HVT_RING_OP_NET_READ;
const WRITE = abi.SN_SOLO5_HVT_RING_OP_NET_WRITE;

function started(t: Test, extra = {}): HvtRingGuest {
  const g = new HvtRingGuest(extra);
  g.h.start();
  t.teardown(() => g.stop());
  return g;
}

t.test('frames go out through NET_WRITE entries, in order, and ent_head follows', async (t) => {
  const g = started(t);
  for (let i = 0; i < 2100; i++) {
    g.write(ringFrame(i, 60 + (i % 1400)));
    const f = await g.received();
    if (!f.equals(ringFrame(i, 60 + (i % 1400)))) t.fail(`frame ${i} came out as ${f.subarray(0, 20).toString('hex')}`);
    // The guest waits while ent_tail - ent_head >= 1023; 2100 frames wrap the ring twice.
  }
  await until(() => g.ring('ent_head') === g.tail, 'ent_head to reach ent_tail');
  t.equal(g.counter('net0.ringTxPackets'), 2100);
  t.equal(g.counter('net0.ringTxDropped'), 0);
  t.same(g.events, []);
});

t.test('NET_READ commits OK with the frame, then AGAIN when nothing waits', async (t) => {
  const g = started(t);
  const f = ringFrame(42, 1514);
  fs.writeSync(g.peer, f);
  const c = await g.read(BUF, MTU + 14, 99);
  t.same(c, { id: 99, ret: OK, len: 1514 }, 'the entry id comes back with the length');
  t.ok(g.map.read(BUF, 1514).equals(f), 'the frame is in guest memory');
  t.same(await g.read(BUF, MTU + 14, 100), { id: 100, ret: AGAIN, len: 0 });
  t.equal(g.counter('net0.ringRxPackets'), 1);
  t.equal(g.counter('net0.ringRxAgain'), 1);
});

t.test('bad handles: a write is dropped, a read commits EINVAL, and the ring goes on', async (t) => {
  const g = started(t);
  for (const handle of [0, 2, 63, 64, 0xffffffff]) {
    g.write(ringFrame(handle), BUF, handle);
    t.same(await g.read(BUF, MTU + 14, handle, handle), { id: handle >>> 0, ret: EINVAL, len: 0 }, `read on handle ${handle}`);
  }
  g.write(ringFrame(1));
  t.ok((await g.received()).equals(ringFrame(1)), 'a good frame after the bad ones');
  t.ok(g.nothingReceived(), 'none of the bad-handle writes went anywhere');
  t.equal(g.counter('ring.badHandles'), 10);
  t.equal(g.counter('pump.violated'), 0);
});

t.test('unknown operations are skipped; short or oversized writes are dropped and counted', async (t) => {
  const g = started(t);
  for (const op of [0, 3, 0xffffffff]) g.submit({ op, handle: 1, data: BUF, len: 60, id: 1 });
  for (const len of [0, 13, MTU + 15, 65535]) g.submit({ op: WRITE, handle: 1, data: BUF, len, id: 2 });
  g.write(ringFrame(5));
  t.ok((await g.received()).equals(ringFrame(5)));
  t.ok(g.nothingReceived());
  t.equal(g.counter('ring.badOps'), 3);
  t.equal(g.counter('net0.ringTxDropped'), 4);
  t.same(await g.read(BUF, 13), { id: 7, ret: EINVAL, len: 0 }, 'a read buffer that cannot hold a header');
});

t.test('a read into a range the guest may not write commits EINVAL and leaves the frame waiting (W^X)', async (t) => {
  const TEXT = 0x100000;
  const g = started(t, { guestReadOnly: [{ addr: TEXT, len: 0x2000 }] });
  const text = g.map.read(TEXT, 0x2000);
  fs.writeSync(g.peer, ringFrame(3));
  t.same(await g.read(TEXT + 0x1000 - 8, MTU + 14), { id: 7, ret: EINVAL, len: 0 }, 'straddling the end of text');
  t.same(await g.read(TEXT - 100, MTU + 14), { id: 7, ret: EINVAL, len: 0 }, 'running into text from below');
  t.ok(g.map.read(TEXT, 0x2000).equals(text), 'text unchanged');
  const c = await g.read(BUF, MTU + 14);
  t.same(c, { id: 7, ret: OK, len: 60 }, 'the frame is still there for a good buffer');
  t.equal(g.counter('ring.readOnly'), 2);
});

t.test('buffers outside guest memory end the guest with upstream words, never the tender', async (t) => {
  const cases: Array<[string, number, number | bigint, number]> = [
    ['write past the top', WRITE, VISIBLE - 10, 60],
    ['write into the ring area', WRITE, VISIBLE, 60],
    ['write at 2^64-1', WRITE, 0xffffffffffffffffn, 60],
    ['read of 2^32-1 bytes', READ, BUF, 0xffffffff],
    ['read past the top', READ, VISIBLE - 100, MTU + 14],
    ['read into the ring', READ, VISIBLE + 128, MTU + 14],
  ];
  for (const [what, op, data, len] of cases) {
    const g = new HvtRingGuest();
    g.h.start();
    g.submit({ op, handle: 1, data, len, id: 1 });
    await until(() => g.events.length > 0, `the violation for ${what}`);
    t.equal(g.events[0].type, 'violation', what);
    t.match(g.events[0].message, /Invalid guest access: gpa=0x[0-9a-f]+, sz=\d+/, what);
    t.equal(g.counter('pump.violated'), 1);
    t.equal(g.ring('com_tail'), 0, `${what}: nothing committed`);
    t.equal(g.h.drain(), `net ring: ${g.events[0].message}`);
    g.stop();
  }
});

t.test('ent_tail or com_head out of range is a violation; a guest that never takes its commits only stalls itself', async (t) => {
  const g = new HvtRingGuest();
  g.h.start();
  g.w32(VISIBLE + abi.SN_SOLO5_HVT_RING.offsets.ent_tail, 5000);
  g.kick();
  await until(() => g.events.length > 0, 'the ent_tail violation');
  t.match(g.events[0].message, /ent_tail 5000 is more than 1024 entries ahead of ent_head 0/);
  g.stop();

  const s = started(t);
  // 1024 reads fill the commit ring; the 1025th waits until the guest takes one.
  for (let i = 0; i < 1024; i++) {
    s.fill({ op: READ, handle: 1, data: BUF, len: MTU + 14, id: i });
    s.tail++;
  }
  s.w32(VISIBLE + abi.SN_SOLO5_HVT_RING.offsets.ent_tail, s.tail);
  s.kick();
  await until(() => s.ring('com_tail') === 1024, '1024 commits');
  s.submit({ op: READ, handle: 1, data: BUF, len: MTU + 14, id: 1024 });
  await until(() => s.counter('ring.stalls') > 0, 'the pump to see the commit ring full');
  t.equal(s.ring('ent_head'), 1024, 'the 1025th entry waits');
  const first = await s.commit();
  t.same(first, { id: 0, ret: AGAIN, len: 0 });
  s.kick();
  await until(() => s.ring('com_tail') === 1025, 'the last commit once there was room');
  t.equal(s.counter('pump.violated'), 0);

  const bad = new HvtRingGuest();
  bad.h.start();
  bad.w32(VISIBLE + abi.SN_SOLO5_HVT_RING.offsets.com_head, 0x80000000);
  bad.submit({ op: READ, handle: 1, data: BUF, len: MTU + 14, id: 1 });
  await until(() => bad.events.length > 0, 'the com_head violation');
  t.match(bad.events[0].message, /com_head 2147483648 is more than 1024 commits behind com_tail 0/);
  bad.stop();
});

t.test('the pump sleeps with needs_kick set, wakes on a kick, and serves what came before the kick too', async (t) => {
  const g = started(t, { spinUs: 0 });
  await until(() => g.counter('pump.sleeps') > 0 && g.ring('needs_kick') === 1, 'the pump asleep');
  // An entry published without a kick waits; the next submit sees needs_kick and kicks.
  g.map.write(BUF, ringFrame(1));
  g.submit({ op: WRITE, handle: 1, data: BUF, len: 60, id: 0 }, false);
  const sleeps = g.counter('pump.sleeps');
  g.write(ringFrame(2), BUF + 4096);
  // The second submit saw needs_kick and kicked: both frames go out, in order.
  t.ok((await g.received()).equals(ringFrame(1)));
  t.ok((await g.received()).equals(ringFrame(2)));
  await until(() => g.counter('pump.sleeps') > sleeps, 'the pump asleep again');
  t.equal(g.ring('needs_kick'), 1);
});

t.test('a guest that never kicks cannot keep stop() waiting', async (t) => {
  const g = new HvtRingGuest({ spinUs: 0 });
  g.h.start();
  await until(() => g.counter('pump.sleeps') > 0, 'the pump asleep');
  g.submit({ op: WRITE, handle: 1, data: BUF, len: 60, id: 0 }, false);
  g.stop();
  t.pass('stop() returned');
});

t.test('hvtRing is checked like every config field', async (t) => {
  const n = native();
  const memFd = n.memfdCreate('hvtring-config', MEM);
  t.teardown(() => fs.closeSync(memFd));
  const [a, b] = n.socketpairSeqpacket();
  t.teardown(() => (fs.closeSync(a), fs.closeSync(b)));
  const net = { index: 1, name: 'net0', fd: b, mtu: MTU };
  const base = { memFd, memSize: MEM, ringsAddr: 0, solo5: true, devices: [] };
  // Deliberately ill-typed configs, as JavaScript callers may pass them.
  const make = (c: object) => () => n.createGuestBroker(Object.assign({}, base, c), () => {}).stop();
  t.throws(make({ solo5: false, ringsAddr: 0x100000, hvtRing: { addr: VISIBLE, nets: [net] } }), /hvtRing is only for a Solo5-ABI guest/);
  t.throws(make({ hvtRing: { addr: MEM - 4096, nets: [net] } }), /a ring of 49280 bytes at \d+ does not fit in memSize/);
  t.throws(make({ hvtRing: { addr: 0x1000, nets: [net] } }), /config\.hvtRing\.addr is 4096, not an integer from 1048576/);
  t.throws(make({ hvtRing: { addr: VISIBLE + 1, nets: [net] } }), /not page aligned/);
  t.throws(make({ hvtRing: { addr: VISIBLE, nets: [] } }), /hvtRing\.nets must have 1 to 63 devices/);
  t.throws(make({ hvtRing: { addr: VISIBLE, nets: [net, net] } }), /nets\[1\]\.index 1 is used twice/);
  t.throws(make({ hvtRing: { addr: VISIBLE, nets: [{ ...net, mtu: 20 }] } }), /nets\[0\]\.mtu is 20/);
  t.throws(make({ hvtRing: VISIBLE }), /^Usage: .*hvtRing must be an object/);
  const ok = n.createGuestBroker({ ...base, hvtRing: { addr: VISIBLE, nets: [net] } }, () => {});
  t.ok(ok.hvtKickFd > 2, 'a kick eventfd');
  ok.stop();
  const plain = n.createGuestBroker({ ...base, devices: [] }, () => {});
  t.equal(plain.hvtKickFd, -1, 'no ring, no kick fd');
  plain.stop();
});
