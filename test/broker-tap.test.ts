// broker-tap.test.ts: the broker's tap backend inside a network namespace the test creates: open, adopt, errors, ARP with the kernel.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { native, packageRoot } from '../lib/native';
import { tapNamespace, tapSkip } from './support/tapns';

const n = native();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-broker-tap-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

/*
 * Runs inside the namespace: opens the tap, serves it with a broker, and
 * plays a guest that ARPs for the kernel's address; prints what it saw.
 */
const tapChild = `
const fs = require('fs');
const n = require(process.argv[1]).native();
const out = { errors: [] };
for (const f of [() => n.openTap('sn-nope0'), () => n.openTap('x'.repeat(16)), () => n.tapFromFd(0)]) {
  try { f(); } catch (e) { out.errors.push(e.message); }
}
const tap = n.openTap('sntap0');
out.mtu = tap.mtu;
out.fromFd = n.tapFromFd(tap.fd).mtu;
const MEM = 8 << 20, R = 0x100000;
const memFd = n.memfdCreate('g', MEM);
const pcap = process.argv[2];
const pcapFd = fs.openSync(pcap, 'w');
const mac = Buffer.from([2, 0, 0, 0, 0, 0x0a]);
const h = n.createGuestBroker({ memFd, memSize: MEM, ringsAddr: R, devices: [{ index: 1, name: 'tap0', kind: 'net', mtu: tap.mtu, mac, backend: { type: 'tap', fd: tap.fd }, pcapFd }] }, (e) => out.errors.push(e.message));
h.start();
const m = require(process.argv[3]).testNative().mapGuest({ memFd, memSize: MEM, ringsAddr: R, doorbellFds: h.doorbellFds });
const r32 = (a) => m.read(a, 4).readUInt32LE(0);
const w32 = (a, v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); m.write(a, b); };
const dev = R + Number(m.read(R + 24, 8).readBigUInt64LE(0));
const off = (o) => dev + Number(m.read(dev + o, 8).readBigUInt64LE(0));
const stride = r32(dev + 260);
const arp = Buffer.alloc(42);
arp.fill(0xff, 0, 6); mac.copy(arp, 6); arp.writeUInt16BE(0x0806, 12);
arp.writeUInt16BE(1, 14); arp.writeUInt16BE(0x0800, 16); arp[18] = 6; arp[19] = 4; arp.writeUInt16BE(1, 20);
mac.copy(arp, 22); Buffer.from([10, 77, 0, 2]).copy(arp, 28); Buffer.from([10, 77, 0, 1]).copy(arp, 38);
// The tap's carrier comes up as it is opened; a request sent in that instant
// can be lost, so it is repeated every 250 ms until the kernel answers.
let prod = 0, lastSend = 0;
const sendArp = () => {
  const i = prod % 256;
  m.write(off(288) + i * stride, arp);
  w32(off(272) + i * 8, arp.length);
  w32(dev + 0, ++prod);
  fs.writeSync(h.doorbellFds[0], Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]));
  lastSend = Date.now();
};
sendArp();
let cons = 0;
const end = Date.now() + 120000; // a hang guard only: the loop ends at the reply
(function poll() {
  if (!out.reply && Date.now() - lastSend > 250) sendArp();
  while (r32(dev + 128) !== cons) {
    const i = cons % 256;
    const len = r32(off(280) + i * 8);
    const f = m.read(off(296) + i * stride, len);
    cons++;
    w32(dev + 128 + 64, cons);
    if (f.readUInt16BE(12) === 0x0806 && f.readUInt16BE(20) === 2) out.reply = { sender: [...f.subarray(28, 32)].join('.'), len };
  }
  if (!out.reply && Date.now() < end) return setTimeout(poll, 2);
  out.counters = h.counters();
  h.stop();
  fs.closeSync(pcapFd);
  console.log(JSON.stringify(out));
})();
`;

t.test('tap: open, adopt, errors, and an ARP round trip with the kernel inside a network namespace', { skip: tapSkip }, async (t) => {
  const inNs = tapNamespace(t, `sn-brk-${process.pid}`, 'sntap0', '10.77.0.1/24', 1400);
  t.throws(() => n.openTap('sntap0'), /^tap 'sntap0': no such interface$/, 'the tap is not in the tender namespace');
  const pcap = path.join(tmp, 'tap.pcap');
  const argv = inNs([
    process.execPath,
    '-e',
    tapChild,
    path.join(packageRoot, 'dist', 'lib', 'native.js'),
    pcap,
    path.join(packageRoot, 'dist', 'test', 'support', 'native-test.js'),
  ]);
  const out = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  const r = JSON.parse(out) as {
    errors: string[];
    mtu: number;
    fromFd: number;
    reply?: { sender: string; len: number };
    counters: Record<string, number>;
  };
  t.same(r.errors.slice(0, 3), [
    "tap 'sn-nope0': no such interface",
    "tap 'xxxxxxxxxxxxxxxx': an interface name has 1 to 15 characters and no '/'",
    'tap fd 0: TUNGETIFF (is it a tap?) failed: ' + r.errors[2].split(': ').pop(),
  ]);
  t.match(r.errors[2], /^tap fd 0: TUNGETIFF \(is it a tap\?\) failed: E[A-Z]+$/);
  t.equal(r.errors.length, 3, 'no backend errors');
  t.equal(r.mtu, 1400, 'MTU of the interface');
  t.equal(r.fromFd, 1400, 'tapFromFd agrees');
  t.same(r.reply?.sender, '10.77.0.1', 'the kernel answered the guest ARP request through the tap');
  t.ok(r.counters['tap0.txPackets'] >= 1 && r.counters['tap0.rxPackets'] >= 1, 'counters');
  const p = fs.readFileSync(pcap);
  t.equal(p.readUInt32LE(20), 1, 'pcap of the tap device');
  t.ok(p.length >= 24 + 16 + 42 + 16 + 42, 'records for the request and the reply');
});
