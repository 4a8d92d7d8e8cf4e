// broker-solo5.test.ts: socket net devices of Solo5-ABI guests, with the test holding the guest's end of each socketpair.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { native, packageRoot, type BrokerEvent, type BrokerHandle, type DeviceConfig } from '../lib/native';
import { until } from './support/ring-guest';
import { tapNamespace, tapSkip } from './support/tapns';

const n = native();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-solo5-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MAC_A = Buffer.from([0x02, 0, 0, 0, 0x05, 0x0a]);
const MAC_B = Buffer.from([0x02, 0, 0, 0, 0x05, 0x0b]);
const MAC_E = Buffer.from([0x02, 0, 0, 0, 0x05, 0x0e]);
const BCAST = Buffer.alloc(6, 0xff);
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

function fdFlags(fd: number): number {
  const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  return parseInt(/flags:\s+([0-7]+)/.exec(info)?.[1] ?? 'x', 8);
}

function frame(dst: Buffer, src: Buffer, seq: number, len = 60): Buffer {
  const f = Buffer.alloc(len);
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  f.writeUInt32BE(seq >>> 0, 14);
  return f;
}

/** The test plays the guest on the guest's end of the pair, non-blocking like a Solo5 net hostfd. */
class SockGuest {
  readonly brokerFd: number;
  readonly fd: number;
  constructor() {
    const [tenderEnd, guestEnd] = n.socketpairSeqpacket();
    this.brokerFd = tenderEnd;
    this.fd = guestEnd;
  }
  send(f: Buffer): void {
    fs.writeSync(this.fd, f);
  }
  recv(): Buffer | undefined {
    const b = Buffer.alloc(65536);
    try {
      return b.subarray(0, fs.readSync(this.fd, b));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return undefined;
      throw e;
    }
  }
  async next(): Promise<Buffer> {
    let f: Buffer | undefined;
    await until(() => (f = this.recv()) !== undefined, 'a frame on the guest socket');
    return f as Buffer;
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

function net(index: number, name: string, g: SockGuest, mac: Buffer, switchId: number, pcapFd?: number): DeviceConfig {
  return { index, name, kind: 'net', mtu: 1500, mac, backend: { type: 'switch', switchId }, guestSocketFd: g.brokerFd, pcapFd };
}

function solo5Broker(devices: DeviceConfig[], events: BrokerEvent[]): BrokerHandle {
  const h = n.createGuestBroker({ solo5: true, memFd: -1, memSize: 0, ringsAddr: 0, devices }, (e) => events.push(e));
  h.start();
  return h;
}

t.test('socketpairSeqpacket: both ends close-on-exec and non-blocking', async (t) => {
  const [a, b] = n.socketpairSeqpacket();
  t.teardown(() => [a, b].forEach((fd) => fs.closeSync(fd)));
  t.ok(fdFlags(a) & O_CLOEXEC && fdFlags(b) & O_CLOEXEC, 'close-on-exec');
  t.ok(fdFlags(a) & O_NONBLOCK, 'tender end non-blocking');
  t.ok(fdFlags(b) & O_NONBLOCK, 'guest end non-blocking: a Solo5 guest reads EAGAIN when nothing waits');
  t.throws(() => fs.readSync(b, Buffer.alloc(10)), { code: 'EAGAIN' });
  fs.writeSync(b, Buffer.from('one'));
  fs.writeSync(b, Buffer.from('second'));
  const buf = Buffer.alloc(100);
  t.equal(fs.readSync(a, buf), 3, 'message boundaries kept');
  t.equal(fs.readSync(a, buf), 6);
  const sw = n.createSwitch({ mtu: 1500 });
  t.teardown(() => n.destroySwitch(sw));
  const netDev = { index: 1, name: 'n', kind: 'net' as const, mtu: 1500, mac: MAC_A, backend: { type: 'switch' as const, switchId: sw } };
  t.throws(
    () => n.createGuestBroker({ solo5: true, memFd: 0, memSize: 0, ringsAddr: 0, devices: [netDev] }, () => {}),
    /device 'n'\.guestSocketFd must be a number \(solo5: true\)/,
  );
  const memFd = n.memfdCreate('g', 8 << 20);
  t.teardown(() => fs.closeSync(memFd));
  t.throws(
    () => n.createGuestBroker({ memFd, memSize: 8 << 20, ringsAddr: 0x100000, devices: [{ ...netDev, guestSocketFd: a }] }, () => {}),
    /guestSocketFd is only for a Solo5-ABI guest/,
  );
  t.throws(
    () =>
      n.createGuestBroker(
        {
          solo5: true,
          memFd: 0,
          memSize: 0,
          ringsAddr: 0,
          devices: [{ index: 1, name: 'd', kind: 'block', fd: 0, capacity: 512, blockSize: 512 }],
        },
        () => {},
      ),
    /device 'd': a Solo5-ABI guest reads its block image itself/,
  );
});

t.test('frames both ways through a switch endpoint; garbage sizes are counted and dropped', async (t) => {
  const sw = n.createSwitch({ mtu: 1500 });
  const got: Buffer[] = [];
  const ep = n.switchAddEndpoint(sw, MAC_E, (fs_) => got.push(...fs_));
  const g = new SockGuest();
  const events: BrokerEvent[] = [];
  const h = solo5Broker([net(1, 'net0', g, MAC_A, sw)], events);
  t.teardown(() => {
    h.stop();
    g.close();
    n.destroySwitch(sw);
  });
  t.same(h.doorbellFds, [-1, -1], 'no doorbells for a Solo5-ABI guest');
  t.equal(h.ringsSize, 0, 'no ring area');
  const sizes = [0, 1, 13, 1515, 9000];
  for (const len of sizes) g.send(Buffer.alloc(len, 0xee));
  const f1 = frame(MAC_E, MAC_A, 1);
  g.send(f1);
  await until(() => got.length === 1, 'the endpoint to receive the valid frame');
  t.same(got[0], f1, 'the guest frame reached the endpoint unchanged');
  const c = h.counters();
  t.equal(c['net0.txErrors'], sizes.length, 'each garbage message counted once');
  t.equal(c['net0.txPackets'], 1);
  const big = frame(MAC_A, MAC_E, 2, 1514);
  t.ok(n.switchSend(sw, ep, big), 'a full-size frame for the guest');
  t.same(await g.next(), big, 'the guest got it as one message');
  t.equal(h.counters()['net0.rxPackets'], 1);
  t.equal(h.drain(), undefined, 'no rings, no violation');
  t.same(events, [], 'no events');
});

t.test('a guest that stops reading: frames for it are dropped and counted, the rest arrive in order', async (t) => {
  const sw = n.createSwitch({ mtu: 1500 });
  const ep = n.switchAddEndpoint(sw, MAC_E, () => {});
  const g = new SockGuest();
  const h = solo5Broker([net(1, 'net0', g, MAC_A, sw)], []);
  t.teardown(() => {
    h.stop();
    g.close();
    n.destroySwitch(sw);
  });
  const total = 5000;
  let accepted = 0;
  for (let i = 0; i < total; i++) if (n.switchSend(sw, ep, frame(MAC_A, MAC_E, i, 1514))) accepted++;
  const c = h.counters();
  t.ok(c['net0.rxDropped'] > 0, `the full socket dropped ${c['net0.rxDropped']} frames`);
  t.equal(c['net0.rxPackets'] + c['net0.rxDropped'], total, 'every frame either queued or counted as dropped');
  t.equal(c['net0.rxPackets'], accepted, 'switchSend reported the queued ones');
  let last = -1;
  let read = 0;
  for (let f = g.recv(); f; f = g.recv()) {
    const seq = f.readUInt32BE(14);
    if (seq <= last) t.fail(`frame ${seq} after ${last}`);
    last = seq;
    read++;
  }
  t.equal(read, accepted, 'the guest reads exactly the queued frames');
  t.ok(n.switchSend(sw, ep, frame(MAC_A, MAC_E, total)), 'room again once the guest reads');
  t.equal((await g.next()).readUInt32BE(14), total);
});

t.test('a guest that closes its end: one event, that device stops, the pump and the other device go on', async (t) => {
  const sw = n.createSwitch({ mtu: 1500 });
  const got: Buffer[] = [];
  const ep = n.switchAddEndpoint(sw, MAC_E, (f) => got.push(...f));
  const g0 = new SockGuest();
  const g1 = new SockGuest();
  const events: BrokerEvent[] = [];
  const h = solo5Broker([net(1, 'net0', g0, MAC_A, sw), net(2, 'net1', g1, MAC_B, sw)], events);
  t.teardown(() => {
    h.stop();
    g1.close();
    n.destroySwitch(sw);
  });
  g0.close();
  await until(() => events.length > 0, 'the closed event');
  t.same(events, [{ type: 'closed', device: 'net0', message: 'the guest closed its end of the socket' }]);
  n.switchSend(sw, ep, frame(MAC_A, MAC_E, 7));
  const f = frame(MAC_E, MAC_B, 8);
  g1.send(f);
  await until(() => got.length === 1, 'net1 to keep working');
  t.same(got[0], f);
  t.ok(n.switchSend(sw, ep, frame(MAC_B, MAC_E, 9)));
  t.equal((await g1.next()).readUInt32BE(14), 9, 'frames still reach net1');
  const c = h.counters();
  t.equal(c['net0.closed'], 1);
  t.equal(c['net0.rxDropped'], 1, 'the frame for the closed device was dropped and counted');
  t.equal(c['net1.closed'], 0);
  t.equal(events.length, 1, 'still one event');
});

t.test('guest to guest through the switch with two brokers; pcap records both directions', async (t) => {
  const sw = n.createSwitch({ mtu: 1500 });
  const ga = new SockGuest();
  const gb = new SockGuest();
  const pcapFile = path.join(tmp, 'a.pcap');
  const pcapFd = fs.openSync(pcapFile, 'w');
  const ha = solo5Broker([net(1, 'a', ga, MAC_A, sw, pcapFd)], []);
  const hb = solo5Broker([net(1, 'b', gb, MAC_B, sw)], []);
  fs.closeSync(pcapFd);
  t.teardown(() => {
    ha.stop();
    hb.stop();
    ga.close();
    gb.close();
    n.destroySwitch(sw);
  });
  const ab = frame(MAC_B, MAC_A, 1, 100);
  ga.send(ab);
  t.same(await gb.next(), ab, 'A to B (unicast)');
  const ba = frame(BCAST, MAC_B, 2, 200);
  gb.send(ba);
  t.same(await ga.next(), ba, 'B to A (broadcast)');
  await until(() => ha.counters()['a.rxPackets'] === 1, 'the counters');
  ha.stop();
  const p = fs.readFileSync(pcapFile);
  t.equal(p.readUInt32LE(0), 0xa1b2c3d4, 'pcap magic');
  t.equal(p.readUInt32LE(20), 1, 'Ethernet');
  t.equal(p.readUInt32LE(24 + 8), 100, 'first record: the frame A sent');
  t.same(p.subarray(24 + 16, 24 + 16 + 100), ab);
  const second = 24 + 16 + 100;
  t.equal(p.readUInt32LE(second + 8), 200, 'second record: the frame A received');
  t.same(p.subarray(second + 16, second + 16 + 200), ba);
  t.equal(p.length, second + 16 + 200, 'two records');
});

// Inside the namespace: a Solo5-ABI guest's socket served by a tap backend; the child ARPs for the kernel.
const tapChild = `
const fs = require('fs');
const n = require(process.argv[1]).native();
const tap = n.openTap('sn5tap0');
const [brokers, mine] = n.socketpairSeqpacket();
const mac = Buffer.from([2, 0, 0, 0, 5, 0x0a]);
const events = [];
const h = n.createGuestBroker({ solo5: true, memFd: 0, memSize: 0, ringsAddr: 0, devices: [{ index: 1, name: 'tap0', kind: 'net', mtu: tap.mtu, mac, backend: { type: 'tap', fd: tap.fd }, guestSocketFd: brokers }] }, (e) => events.push(e));
h.start();
const arp = Buffer.alloc(42);
arp.fill(0xff, 0, 6); mac.copy(arp, 6); arp.writeUInt16BE(0x0806, 12);
arp.writeUInt16BE(1, 14); arp.writeUInt16BE(0x0800, 16); arp[18] = 6; arp[19] = 4; arp.writeUInt16BE(1, 20);
mac.copy(arp, 22); Buffer.from([10, 78, 0, 2]).copy(arp, 28); Buffer.from([10, 78, 0, 1]).copy(arp, 38);
let reply, lastSend = 0;
// A hang guard only: minutes, so that a loaded machine cannot trip it.
const end = Date.now() + 120000;
(function poll() {
  // The carrier comes up as the tap opens: a request sent in that instant can be lost, so it is repeated.
  if (Date.now() - lastSend > 250) { fs.writeSync(mine, arp); lastSend = Date.now(); }
  const b = Buffer.alloc(2048);
  for (;;) {
    let len;
    try { len = fs.readSync(mine, b); } catch { break; }
    if (b.readUInt16BE(12) === 0x0806 && b.readUInt16BE(20) === 2) reply = { sender: [...b.subarray(28, 32)].join('.'), len };
  }
  if (!reply && Date.now() < end) return setTimeout(poll, 2);
  const counters = h.counters();
  h.stop();
  console.log(JSON.stringify({ reply, counters, events }));
})();
`;

t.test('tap backend in a network namespace: ARP with the kernel through the guest socket', { skip: tapSkip }, async (t) => {
  const inNs = tapNamespace(t, `sn-s5-${process.pid}`, 'sn5tap0', '10.78.0.1/24');
  const argv = inNs([process.execPath, '-e', tapChild, path.join(packageRoot, 'dist', 'lib', 'native.js')]);
  const out = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 180000 });
  const r = JSON.parse(out) as { reply?: { sender: string }; counters: Record<string, number>; events: BrokerEvent[] };
  t.equal(r.reply?.sender, '10.78.0.1', 'the kernel answered through the tap and the socket');
  t.ok(r.counters['tap0.txPackets'] >= 1 && r.counters['tap0.rxPackets'] >= 1, 'counters both ways');
  t.same(r.events, [], 'no events');
});

t.test('drain(): the frames a Solo5-ABI guest wrote just before it exited still reach their destination', async (t) => {
  const sw = n.createSwitch({ mtu: 1500 });
  const got: Buffer[] = [];
  n.switchAddEndpoint(sw, MAC_E, (fs_) => got.push(...fs_));
  const g = new SockGuest();
  const events: BrokerEvent[] = [];
  // The pump may take some of them before the exit and the last look the rest; together, every one.
  const h = solo5Broker([net(1, 'net0', g, MAC_A, sw)], events);
  t.teardown(() => {
    h.stop();
    n.destroySwitch(sw);
  });
  const sent = Array.from({ length: 100 }, (_, i) => frame(MAC_E, MAC_A, i));
  for (const f of sent) g.send(f);
  g.close(); // the guest exits: its end closes with the frames still queued
  t.equal(h.drain(), undefined, 'no violation');
  t.equal(h.counters()['net0.txPackets'], 100, 'every queued frame was taken from the socket');
  await until(() => got.length === 100, `the endpoint to receive all 100 frames (got ${got.length}; ${JSON.stringify(h.counters())})`);
  t.same(got, sent, 'in order and unchanged');
});
