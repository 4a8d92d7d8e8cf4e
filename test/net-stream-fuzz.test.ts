// net-stream-fuzz.test.ts: a hostile or stalled stream peer ends (or slows) only its own link; the tender and guest keep serving.
import t, { type Test } from 'tap';
import { launch, type Guest } from '../lib';
import type { LogLevel, TenderLog } from '../lib/log';
import { icmpEcho, parseIcmpEcho, parseIpv4 } from '../lib/net/packets';
import { Pinger } from '../lib/net/pinger';
import path from 'node:path';
import { app, root } from './support/paths';
import { StreamListener, type StreamPeer } from './support/stream-peer';
import { testSeed } from './support/seed';

const seed = testSeed();
let state = seed >>> 0 || 1;
function rand(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}

const MAC0 = Buffer.from([2, 0, 0, 0, 0x5f, 1]);
const MAC1 = Buffer.from([2, 0, 0, 0, 0x5f, 2]);

interface Line {
  level: LogLevel;
  device?: unknown;
  msg: string;
}

/** A TenderLog that keeps warn lines and tells a waiter about each. */
function captureLog(lines: Line[], onLine: () => void, bindings: Record<string, unknown> = {}): TenderLog {
  const put = (level: LogLevel) => (obj: object | string, msg?: string) => {
    const fields = typeof obj === 'string' ? {} : (obj as Record<string, unknown>);
    const all = { ...bindings, ...fields };
    if (level === 'warn' || level === 'error') {
      lines.push({ level, device: all.device, msg: typeof obj === 'string' ? obj : (msg ?? '') });
      onLine();
    }
  };
  return {
    child: (b) => captureLog(lines, onLine, { ...bindings, ...b }),
    enabled: (level) => level === 'warn' || level === 'error',
    trace: put('trace'),
    debug: put('debug'),
    info: put('info'),
    warn: put('warn'),
    error: put('error'),
  };
}

interface Rig {
  guest: Guest;
  p0: StreamPeer;
  p1: StreamPeer;
  lines: Line[];
  /** Resolves at the first warn line about `device`. */
  lineFor(device: string): Promise<Line>;
}

/** net_2if serving forever: service0 and service1 each on a stream socket of the test's own. */
const KERNELS = { ring: app('net_2if'), solo5: path.join(root, 'guest', 'build', 'solo5', 'net_2if.spt') };
type Abi = keyof typeof KERNELS;

async function rig(tt: Test, abi: Abi = 'ring'): Promise<Rig> {
  const [l0, l1] = await Promise.all([StreamListener.open(), StreamListener.open()]);
  tt.teardown(() => {
    l0.close();
    l1.close();
  });
  const lines: Line[] = [];
  const waiters: (() => void)[] = [];
  const log = captureLog(lines, () => waiters.splice(0).forEach((w) => w()));
  const guest = await launch(
    {
      kernel: KERNELS[abi],
      args: ['10.0.1.2', '10.0.2.2'],
      memMB: 32,
      console: 'pipe',
      net: { service0: { unix: l0.path }, service1: { unix: l1.path } },
    },
    log,
  );
  tt.teardown(async () => {
    guest.kill();
    await guest.exited;
  });
  const [p0, p1] = await Promise.all([l0.accept(MAC0), l1.accept(MAC1)]);
  const lineFor = (device: string) =>
    new Promise<Line>((resolve) => {
      const look = () => {
        const l = lines.find((x) => x.device === device);
        if (l) resolve(l);
        else waiters.push(look);
      };
      look();
    });
  return { guest, p0, p1, lines, lineFor };
}

/** The guest still answers on service1 (and so it, and the tender, are alive). */
async function stillServes(tt: Test, r: Rig, what: string): Promise<void> {
  const p = new Pinger(r.p1, '10.0.2.1');
  const mac = await p.resolve('10.0.2.2');
  const res = await p.ping('10.0.2.2', mac, 20, { window: 4 });
  tt.same([res.received, res.corrupt], [20, 0], `${what}: service1 still answers every ping`);
  let exited = false;
  void r.guest.exited.then(() => (exited = true));
  await new Promise((resolve) => setImmediate(resolve));
  tt.notOk(exited, `${what}: the guest is still running`);
}

async function linkWorks(r: Rig): Promise<{ pinger: Pinger; mac: Buffer }> {
  const pinger = new Pinger(r.p0, '10.0.1.1');
  const mac = await pinger.resolve('10.0.1.2');
  const res = await pinger.ping('10.0.1.2', mac, 5);
  if (res.received !== 5) throw new Error('service0 did not work before the fuzz case');
  return { pinger, mac };
}

function header(len: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(len >>> 0);
  return h;
}

/** `n` random bytes (`n` >= 4) that begin with a length no peer may send. */
function garbage(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  // A first length that is certainly bad, so that the case is never a valid frame by chance.
  b.writeUInt32BE(0x10000 + Math.floor(rand() * 0xfffe0000), 0);
  return b;
}

const fatal: [string, (p: StreamPeer) => void, RegExp][] = [
  ['a length over the MTU', (p) => p.sendRaw(Buffer.concat([header(1515), Buffer.alloc(1515)])), /bad frame length 1515 /],
  ['a length of 13', (p) => p.sendRaw(Buffer.concat([header(13), Buffer.alloc(13)])), /bad frame length 13 /],
  ['a length of 0', (p) => p.sendRaw(header(0)), /bad frame length 0 /],
  ['a length of 0xffffffff', (p) => p.sendRaw(header(0xffffffff)), /bad frame length 4294967295 /],
  ['random garbage', (p) => p.sendRaw(garbage(4 + Math.floor(rand() * 3000))), /bad frame length /],
  [
    'a peer that hangs up mid-frame',
    (p) => {
      p.sendRaw(Buffer.concat([header(100), Buffer.alloc(40)]));
      p.sock.end();
    },
    /in the middle of a frame \(44 bytes/,
  ],
  ['a peer that disconnects', (p) => p.sock.destroy(), /the peer (closed the stream|reset the connection)/],
];

const ABIS = ['ring', 'solo5'] as const;

for (const [what, attack, reason] of fatal) {
  for (const abi of ABIS) {
    t.test(`${abi} ABI, ${what}: one log line, that link stops, the guest and its other device keep running`, async (tt) => {
      const r = await rig(tt, abi);
      await linkWorks(r);
      attack(r.p0);
      const line = await r.lineFor('service0');
      tt.match(line.msg, reason, `the reason: ${line.msg}`);
      await stillServes(tt, r, what);
      const c = r.guest.counters();
      tt.equal(c['service0.linkDown'], 1, 'service0 is down');
      tt.equal(r.lines.filter((l) => l.device === 'service0').length, 1, 'exactly one line for the failed link');
      tt.equal(r.lines.filter((l) => l.device !== 'service0').length, 0, 'nothing about the other device');
    });
  }
}

t.test('partial frames sent a byte at a time, in random pieces', async (tt) => {
  const r = await rig(tt);
  const { mac } = await linkWorks(r);
  const src = parseIpv4('10.0.1.1');
  const dst = parseIpv4('10.0.1.2');
  const N = 30;
  const replies = new Set<number>();
  const got = new Promise<void>((resolve) => {
    r.p0.on('frame', (f) => {
      const e = parseIcmpEcho(f);
      if (e && e.type === 0 && e.id === 0x7777) replies.add(e.seq);
      if (replies.size === N) resolve();
    });
  });
  const wire = Buffer.concat(
    Array.from({ length: N }, (_, i) => {
      const f = icmpEcho({
        srcMac: MAC0,
        dstMac: mac,
        srcIp: src,
        dstIp: dst,
        id: 0x7777,
        seq: i + 1,
        payload: Buffer.alloc(1 + Math.floor(rand() * 200), i),
      });
      return Buffer.concat([header(f.length), f]);
    }),
  );
  // The first frame byte by byte, each byte its own write (the tender sees one at a time at least sometimes), the rest in random pieces.
  const first = 4 + wire.readUInt32BE(0);
  for (let i = 0; i < first; i++) {
    r.p0.sendRaw(wire.subarray(i, i + 1));
    await new Promise((resolve) => setImmediate(resolve));
  }
  for (let off = first; off < wire.length;) {
    const n = 1 + Math.floor(rand() * 97);
    r.p0.sendRaw(wire.subarray(off, off + n));
    off += n;
    await new Promise((resolve) => setImmediate(resolve));
  }
  await got;
  tt.equal(replies.size, N, `all ${N} echo requests, however cut, were answered`);
  tt.equal(r.lines.length, 0, 'no log line: nothing failed');
  tt.equal(r.guest.counters()['service0.linkDown'], 0);
});

for (const abi of ABIS) {
  t.test(`${abi} ABI, a peer that stops reading: the guest floods, the queue stays bounded, frames drop, nothing blocks`, async (tt) => {
    const r = await rig(tt, abi);
    const { mac } = await linkWorks(r);
    r.p0.sock.pause();
    // A guest that ended would never reply again: say so at once rather than flood on.
    let ended: string | undefined;
    void r.guest.exited.then((e) => (ended = JSON.stringify(e)));
    const src = parseIpv4('10.0.1.1');
    const dst = parseIpv4('10.0.1.2');
    const payload = Buffer.alloc(1400, 0xab);
    let most = 0;
    // Echo requests, each answered with a 1442-byte reply, until the tender has dropped some replies.
    for (let seq = 0; ; seq++) {
      r.p0.send(icmpEcho({ srcMac: MAC0, dstMac: mac, srcIp: src, dstIp: dst, id: 0x1234, seq: seq & 0xffff, payload }));
      if (seq % 64 === 63) {
        await new Promise((resolve) => setImmediate(resolve));
        const c = r.guest.counters();
        most = Math.max(most, c['service0.linkQueuedBytes']);
        if (c['service0.txDropped'] > 0) break;
        if (ended !== undefined) throw new Error(`the guest ended while flooded: ${ended}`);
        if (seq > 2_000_000) throw new Error('the tender never dropped a frame for a peer that stopped reading');
      }
    }
    const c = r.guest.counters();
    tt.ok(c['service0.txDropped'] > 0, `replies dropped and counted (${c['service0.txDropped']})`);
    tt.ok(most <= 256 * 1024 + 1518 + 4, `the tender queued at most its bound (${most} bytes seen)`);
    await stillServes(tt, r, 'while service0 is stalled');
    tt.equal(c['service0.linkDown'], 0, 'a slow peer is not a failure');
    // Reading again: what was queued arrives as whole frames, and the link works as before.
    let bad = 0;
    r.p0.on('frame', (f) => {
      if (f.length < 14 || f.length > 1514) bad++;
    });
    r.p0.sock.resume();
    const pinger = new Pinger(r.p0, '10.0.1.1');
    const res = await pinger.ping('10.0.1.2', mac, 5);
    tt.equal(res.received, 5, 'service0 answers again once its peer reads');
    tt.equal(bad, 0, 'every frame that arrived was whole');
    tt.equal(r.lines.length, 0, 'no log line: a slow peer is not an error');
  });
}
