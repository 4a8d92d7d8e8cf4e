// switch-fair.test.ts: a flooding switch port cannot starve the others out of a guest's rx queue (counts, not timing).
import t, { type Test } from 'tap';
import { launch, VirtualSwitch } from '../lib';
import { native } from '../lib/native';
import { app } from './support/paths';
import { frame, GuestView, NetGuest, until } from './support/ring-guest';
import { testSeed } from './support/seed';

const n = native();
const R = Buffer.from([2, 0, 0, 0, 0x0f, 0x01]); // the guest both flood
const P = Buffer.from([2, 0, 0, 0, 0x0f, 0x02]); // the pinger
const F1 = Buffer.from([2, 0, 0, 0, 0x0f, 0x03]);
const F2 = Buffer.from([2, 0, 0, 0, 0x0f, 0x04]);
const BCAST = Buffer.alloc(6, 0xff);
const seed = testSeed();

function setup(t: Test) {
  const sw = n.createSwitch({ mtu: 1500 });
  const g = new GuestView({
    devices: [{ index: 1, name: 'net', kind: 'net', mtu: 1500, mac: R, backend: { type: 'switch', switchId: sw } }],
  });
  g.h.start();
  t.teardown(() => {
    g.stop();
    n.destroySwitch(sw);
  });
  const ep = (mac: Buffer) => n.switchAddEndpoint(sw, mac, () => {});
  return { sw, g, net: new NetGuest(g, 1), p: ep(P), f1: ep(F1), f2: ep(F2) };
}

/** Takes every frame in the guest's rx queue; counts them by source MAC. */
function drain(net: NetGuest): Map<number, number> {
  const by = new Map<number, number>();
  for (let f = net.receive(); f; f = net.receive()) by.set(f[11], (by.get(f[11]) ?? 0) + 1);
  return by;
}

t.test('one flooder, one pinger: every ping reaches the guest', async (t) => {
  const { sw, net, p, f1 } = setup(t);
  const rounds = 50;
  let pings = 0;
  let flood = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 4 * net.slots; i++) n.switchSend(sw, f1, frame(R, F1, i, 1514));
    if (!n.switchSend(sw, p, frame(R, P, r))) t.fail(`ping ${r} refused`);
    const by = drain(net);
    pings += by.get(P[5]) ?? 0;
    flood += by.get(F1[5]) ?? 0;
  }
  t.equal(pings, rounds, 'the pinger lost nothing');
  t.ok(flood >= rounds * (net.slots / 2), `the flooder still got ${flood} frames through`);
  t.ok(net.g.h.counters()['net.rxDropped'] > 0, 'and the rest of its flood was dropped');
});

t.test('two flooders, unicast and broadcast, interleaved at random: the pinger still loses nothing', async (t) => {
  const { sw, net, p, f1, f2 } = setup(t);
  let x = seed || 1;
  const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const rounds = 40;
  let pings = 0;
  const seen = new Map<number, number>();
  for (let r = 0; r < rounds; r++) {
    const burst = Math.floor(rnd() * 6 * net.slots);
    for (let i = 0; i < burst; i++) {
      const [ep, mac] = rnd() < 0.5 ? [f1, F1] : [f2, F2];
      n.switchSend(sw, ep, frame(rnd() < 0.3 ? BCAST : R, mac, i, 60 + Math.floor(rnd() * 1454)));
      // Now and then the guest reads a little in the middle of the flood.
      if (rnd() < 0.01) for (let k = 0; k < 4; k++) net.receive();
    }
    // A light sender with a few pings in flight at once.
    for (let k = 0; k < 3; k++) if (!n.switchSend(sw, p, frame(R, P, r * 3 + k))) t.fail(`ping ${r}.${k} refused`);
    for (const [src, c] of drain(net)) seen.set(src, (seen.get(src) ?? 0) + c);
  }
  pings = seen.get(P[5]) ?? 0;
  t.equal(pings, rounds * 3, 'every ping arrived');
  t.ok((seen.get(F1[5]) ?? 0) > 0 && (seen.get(F2[5]) ?? 0) > 0, 'both flooders got a share');
});

t.test('a lone sender may fill all but the reserve; a newcomer takes it', async (t) => {
  const { sw, net, p, f1 } = setup(t);
  for (let i = 0; i < 2 * net.slots; i++) n.switchSend(sw, f1, frame(R, F1, i));
  const reserve = Math.max(1, net.slots / 8);
  t.equal(net.pending(), net.slots - reserve, 'the flooder alone stops short of the reserve');
  t.ok(n.switchSend(sw, p, frame(R, P, 1)), 'the newcomer gets a slot');
  t.notOk(n.switchSend(sw, f1, frame(R, F1, 0)), 'the flooder does not');
  const by = drain(net);
  t.equal(by.get(P[5]), 1);
  t.equal(by.get(F1[5]), net.slots - reserve);
});

t.test('a TypeScript endpoint flooded faster than JavaScript takes its frames still gets every ping', async (t) => {
  const sw = n.createSwitch({ mtu: 1500 });
  t.teardown(() => n.destroySwitch(sw));
  const E = Buffer.from([2, 0, 0, 0, 0x0f, 0x05]);
  const got: Buffer[] = [];
  const e = n.switchAddEndpoint(sw, E, (f) => got.push(...f));
  const p = n.switchAddEndpoint(sw, P, () => {});
  const f1 = n.switchAddEndpoint(sw, F1, () => {});
  const total = 40000; // more than the endpoint's pending batch, all before its callback can run
  for (let i = 0; i < total; i++) {
    n.switchSend(sw, f1, frame(E, F1, i));
    if (i % 10000 === 5000 && !n.switchSend(sw, p, frame(E, P, i))) t.fail(`ping at ${i} refused`);
  }
  const sent = 4;
  const counted = () => got.filter((f) => f[11] === P[5]).length;
  await until(() => counted() >= sent, 'every ping at the endpoint');
  t.equal(counted(), sent, 'every ping reached the endpoint');
  const c = n.switchCounters(sw);
  t.ok(c[`endpoint.${e}.dropped`] > total - 16384, `the flood was cut (${c[`endpoint.${e}.dropped`]} dropped)`);
});

t.test('real guests on a VirtualSwitch: a netbench flood at the responder costs the ping.spt guest no reply', async (t) => {
  const sw = new VirtualSwitch();
  t.teardown(() => sw.close());
  const R_MAC = '02:00:00:00:0f:11';
  const kernels = ['net', 'ping', 'netbench'].map((k) => app(k));
  const N = 100;
  const responder = await launch({
    kernel: kernels[0],
    args: ['10.0.0.2'],
    memMB: 32,
    console: 'pipe',
    net: { service: { switch: sw, mac: R_MAC } },
  });
  t.teardown(() => responder.kill());
  // 64-byte frames at the responder's address, for longer than the pings take.
  const flooder = await launch({
    kernel: kernels[2],
    args: ['--solo5:quiet', 'tx', '500000000', '64', R_MAC],
    memMB: 32,
    console: 'pipe',
    net: { service: { switch: sw } },
  });
  t.teardown(() => flooder.kill());
  await until(() => (responder.counters()['service.rxPackets'] ?? 0) > 100_000, 'the flood reaches the responder');
  const pinger = await launch({
    kernel: kernels[1],
    args: ['10.0.0.1', '10.0.0.2', String(N)],
    memMB: 32,
    console: 'pipe',
    net: { service: { switch: sw } },
  });
  let out = '';
  pinger.console?.on('data', (b: Buffer) => (out += b.toString()));
  const exit = await pinger.exited;
  const rc = responder.counters();
  t.ok(
    rc['service.rxDropped'] > 0,
    `the flood overran the responder's ring (${rc['service.rxDropped']} of ${rc['service.rxPackets']} dropped)`,
  );
  t.match(out, `ping: received=${N} of ${N}`, 'every reply came back');
  t.equal(exit.status, 0);
});
