// net-stream-codec.test.ts: the framed-stream decoder and bounded writer of the addon, on byte sequences split every way.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { connectStream } from '../lib/tender/devices';
import { native } from '../lib/native';
import { testNative } from './support/native-test';
import { testSeed } from './support/seed';

const tn = testNative();
const MTU = 1500;
const MAX = MTU + 14;
const seed = testSeed();

function rng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(seed);

function frameOf(len: number, tag: number): Buffer {
  const f = Buffer.alloc(len);
  for (let i = 0; i < len; i++) f[i] = (tag * 7 + i) & 0xff;
  return f;
}

function framed(frames: Buffer[], lens?: number[]): Buffer {
  return Buffer.concat(
    frames.flatMap((f, i) => {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(lens?.[i] ?? f.length);
      return [h, f];
    }),
  );
}

t.test('whole frames come out of every split of the stream', async (tt) => {
  const frames = [frameOf(14, 1), frameOf(60, 2), frameOf(MAX, 3), frameOf(15, 4)];
  const wire = framed(frames);
  let bad = 0;
  for (let k = 0; k <= wire.length; k++) {
    const r = tn.streamDecode([wire.subarray(0, k), wire.subarray(k)], MAX, true);
    if (!r.ok || r.frames.length !== frames.length || r.frames.some((f, i) => !f.equals(frames[i]))) bad++;
  }
  tt.equal(bad, 0, `all ${wire.length + 1} two-way splits decode to the same ${frames.length} frames`);
  const bytes = [...wire].map((b) => Buffer.from([b]));
  const one = tn.streamDecode(bytes, MAX, true);
  tt.same(one.frames, frames, 'one byte at a time');
  tt.ok(one.ok);
  // Random splits into many pieces.
  for (let round = 0; round < 200; round++) {
    const cuts = [0];
    while (cuts[cuts.length - 1] < wire.length) cuts.push(Math.min(wire.length, cuts[cuts.length - 1] + 1 + Math.floor(rand() * 300)));
    const r = tn.streamDecode(
      cuts.slice(1).map((c, i) => wire.subarray(cuts[i], c)),
      MAX,
      true,
    );
    if (!r.ok || r.frames.length !== frames.length) bad++;
  }
  tt.equal(bad, 0, '200 random multi-way splits decode the same');
});

t.test('lengths: 14 and mtu+14 pass; 0, 13, mtu+15 and 0xffffffff end the stream, however the header is split', async (tt) => {
  const cases: [number, boolean][] = [
    [0, false],
    [13, false],
    [14, true],
    [MAX, true],
    [MAX + 1, false],
    [0xffffffff, false],
  ];
  for (const [len, good] of cases) {
    const before = frameOf(20, 9);
    const body = good ? frameOf(len, 5) : frameOf(Math.min(len, 64), 5);
    const wire = framed([before, body], [20, len]);
    for (let k = 0; k <= 28; k++) {
      const r = tn.streamDecode([wire.subarray(0, k), wire.subarray(k)], MAX, false);
      if (good) {
        if (!r.ok || r.frames.length !== 2 || !r.frames[1].equals(body)) tt.fail(`length ${len}, split at ${k}: ${r.why}`);
      } else {
        if (r.ok) tt.fail(`length ${len}, split at ${k}: accepted`);
        if (r.frames.length !== 1 || !r.frames[0].equals(before)) tt.fail(`length ${len}: the good frame before it was lost`);
        if (!r.why.includes(`bad frame length ${len}`)) tt.fail(`length ${len}: reason '${r.why}'`);
      }
    }
    tt.pass(`length ${len}: ${good ? 'decoded' : 'refused with one reason'} at every split of its header`);
  }
});

t.test('garbage ends the stream with a reason, never a crash', async (tt) => {
  const http = tn.streamDecode([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], MAX, false);
  tt.notOk(http.ok);
  tt.match(http.why, /^bad frame length 1195725856 /, 'an HTTP request is a length of 1195725856');
  let refused = 0;
  for (let round = 0; round < 2000; round++) {
    const b = Buffer.alloc(1 + Math.floor(rand() * 4000));
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
    const r = tn.streamDecode([b], MAX, true);
    if (r.frames.some((f) => f.length < 14 || f.length > MAX)) tt.fail('a frame outside the MTU came out');
    if (!r.ok) refused++;
  }
  tt.equal(refused, 2000, 'every random buffer ends the stream (a bad length or a cut frame)');
});

t.test('the end of the stream: at a frame boundary, inside a header, inside a frame', async (tt) => {
  const wire = framed([frameOf(100, 1)]);
  const clean = tn.streamDecode([wire], MAX, true);
  tt.ok(clean.ok, 'at a boundary');
  tt.equal(clean.why, 'the peer closed the stream');
  for (const k of [2, 4, 50]) {
    const r = tn.streamDecode([wire, wire.subarray(0, k)], MAX, true);
    tt.notOk(r.ok, `cut ${k} bytes into the second frame`);
    tt.equal(r.frames.length, 1, 'the whole frame before it still came out');
    tt.equal(r.pending, k, 'the cut bytes were held, no more');
    tt.match(r.why, `in the middle of a frame (${k} bytes of it received)`);
  }
});

t.test('the writer: partial writes finish their frame, the queue stays bounded, drops are whole frames', async (tt) => {
  const maxQueued = 64 * 1024;
  const r = tn.streamWriterRun(seed || 1, 4000, maxQueued, MTU);
  tt.ok(r.dropped > 0, `a reader that stops makes the writer drop (${r.written} written, ${r.queued} queued, ${r.dropped} dropped)`);
  tt.equal(r.txDropped, r.dropped, 'every drop is counted');
  tt.ok(r.mostQueued <= maxQueued + MTU + 18, `at most the limit plus one frame queued (${r.mostQueued})`);
  tt.equal(r.delivered, r.accepted, 'every accepted frame arrives once the reader reads again');
  tt.ok(r.intact, 'intact and in order, read back in small random pieces');
  const none = tn.streamWriterRun((seed || 1) + 1, 2000, 0, 9000);
  tt.ok(none.intact && none.delivered === none.accepted, 'with no queue at all, a frame begun on the wire is still finished');
});

t.test('socketpairStream and unixConnect', async (tt) => {
  const [a, b] = native().socketpairStream();
  fs.writeSync(a, Buffer.from('ping'));
  const got = Buffer.alloc(4);
  fs.readSync(b, got);
  tt.equal(got.toString(), 'ping', 'a connected stream pair');
  fs.closeSync(a);
  fs.closeSync(b);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-connect-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const missing = path.join(dir, 'missing.sock');
  tt.throws(() => native().unixConnect(missing), { code: 'ENOENT' }, 'no such file: ENOENT');
  fs.writeFileSync(path.join(dir, 'file'), '');
  tt.throws(() => native().unixConnect(path.join(dir, 'file')), { code: 'ECONNREFUSED' }, 'not a socket: ECONNREFUSED');
  tt.throws(() => native().unixConnect('x'.repeat(200)), { code: 'ENAMETOOLONG' });
  tt.throws(() => connectStream('service', missing), new RegExp(`^net device 'service': unix:${missing}: cannot connect: no such socket$`));

  const sockPath = path.join(dir, 'ok.sock');
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(sockPath, r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const fd = native().unixConnect(sockPath);
  const peer = await accepted;
  const data = new Promise<Buffer>((r) => peer.once('data', r));
  fs.writeSync(fd, Buffer.from('hello'));
  tt.equal((await data).toString(), 'hello', 'connected');
  tt.throws(() => fs.readSync(fd, Buffer.alloc(4)), { code: 'EAGAIN' }, 'non-blocking');
  fs.closeSync(fd);
  peer.destroy();
  server.close();
});

t.test('the broker refuses a stream backend that is not a stream socket', async (tt) => {
  const [tender, guest] = native().socketpairSeqpacket();
  const [r, w] = native().socketpairStream();
  tt.teardown(() => [tender, guest, r, w].forEach((fd) => fs.closeSync(fd)));
  const mac = Buffer.from([2, 0, 0, 0, 0, 1]);
  const config = (fd: number) => ({
    memFd: 0,
    memSize: 0,
    ringsAddr: 0,
    solo5: true,
    devices: [
      { index: 1, name: 'service', kind: 'net' as const, mtu: 1500, mac, backend: { type: 'stream' as const, fd }, guestSocketFd: tender },
    ],
  });
  tt.throws(
    () => native().createGuestBroker(config(guest), () => {}),
    /net device 'service': the stream backend's fd is not a SOCK_STREAM socket/,
  );
  const ok = native().createGuestBroker(config(r), () => {});
  tt.equal(typeof ok.counters()['service.linkDown'], 'number', 'a stream socket is taken, and its counters appear');
  ok.stop();
});
