// wx.test.ts: W^X through device I/O: block reads never land in the guest's read-only ranges; net rx only in ring buffers.
import fs from 'node:fs';
import t, { type Test } from 'tap';
import * as abi from '../lib/abi';
import { native } from '../lib/native';
import { imageMaker } from './support/images';
import { BlkGuest, frame, GuestView, MEM, NetGuest, RINGS } from './support/ring-guest';
import { testSeed } from './support/seed';

const n = native();
const image = imageMaker('sn-wx-');
const TEXT = 0x300000; // the guest's text and rodata, as the tender would name them
const TEXT_LEN = 0x3000;
const DATA = 0x400000; // writable data
const BS = 512;
const seed = testSeed();

function pattern(len: number, s: number): Buffer {
  const b = Buffer.alloc(len);
  let x = s >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function setup(t: Test) {
  const file = image('disk.img', 1 << 20);
  fs.writeFileSync(file, pattern(1 << 20, seed));
  const fd = fs.openSync(file, 'r+');
  const sw = n.createSwitch({ mtu: 1500 });
  const g = new GuestView({
    guestReadOnly: [
      { addr: TEXT, len: TEXT_LEN },
      { addr: 0x100000, len: 0x1000 },
    ],
    devices: [
      { index: 1, name: 'disk', kind: 'block', fd, capacity: 1 << 20, blockSize: BS },
      { index: 2, name: 'net', kind: 'net', mtu: 1500, mac: Buffer.from([2, 0, 0, 0, 0, 0x0a]), backend: { type: 'switch', switchId: sw } },
    ],
  });
  g.h.start();
  t.teardown(() => {
    g.stop();
    n.destroySwitch(sw);
    fs.closeSync(fd);
  });
  const text = pattern(TEXT_LEN, seed + 1);
  g.write(TEXT, text);
  return { g, sw, text, blk: new BlkGuest(g, 1), disk: pattern(1 << 20, seed) };
}

const read = (addr: number, len: number, offset = 0) => ({
  op: abi.SN_BLK_OP_READ,
  offset: BigInt(offset),
  addr: BigInt(addr),
  len: BigInt(len),
  id: BigInt(addr + len),
});

t.test('a block read aimed at the guest text completes with EINVAL and writes nothing', async (t) => {
  const { g, text, blk, disk } = setup(t);
  const cases: [string, number, number][] = [
    ['the start of text', TEXT, BS],
    ['all of it', TEXT, TEXT_LEN],
    ['straddling its start', TEXT - BS, 2 * BS],
    ['straddling its end', TEXT + TEXT_LEN - BS, 2 * BS],
    ['covering it from outside', TEXT - BS, TEXT_LEN + 2 * BS],
    ['its last byte', TEXT + TEXT_LEN - BS, BS],
    ['the second range', 0x100000, BS],
  ];
  for (const [what, addr, len] of cases) t.equal(await blk.run(read(addr, len)), abi.SN_BLK_ST_EINVAL, what);
  t.same(g.read(TEXT, TEXT_LEN), text, 'the text is unchanged');
  t.equal(g.h.counters()['disk.invalid'], cases.length);
  t.equal(await blk.run(read(TEXT + TEXT_LEN, BS, BS)), abi.SN_BLK_ST_OK, 'the byte after the range is writable');
  t.same(g.read(TEXT + TEXT_LEN, BS), disk.subarray(BS, 2 * BS));
  t.equal(await blk.run(read(TEXT - BS, BS, 2 * BS)), abi.SN_BLK_ST_OK, 'the block before it too');
  t.same(g.read(TEXT - BS, BS), disk.subarray(2 * BS, 3 * BS));
  t.equal(await blk.run(read(DATA, 8 * BS, 4 * BS)), abi.SN_BLK_ST_OK, 'a read into data works');
  t.same(g.read(DATA, 8 * BS), disk.subarray(4 * BS, 12 * BS));
  const write = { op: abi.SN_BLK_OP_WRITE, offset: 0n, addr: BigInt(TEXT), len: BigInt(TEXT_LEN), id: 99n };
  t.equal(await blk.run(write), abi.SN_BLK_ST_OK, 'a write from text only reads it, and is allowed');
  t.same(g.read(TEXT, TEXT_LEN), text);
});

t.test('net rx lands only in the ring area: frames never touch the rest of guest memory', async (t) => {
  const { g, sw, text } = setup(t);
  const ep = n.switchAddEndpoint(sw, Buffer.from([2, 0, 0, 0, 0, 0x0e]), () => {});
  const outside = pattern(0x10000, seed + 2);
  const after = RINGS + g.h.ringsSize;
  g.write(after, outside);
  const net = new NetGuest(g, 2);
  for (let i = 0; i < 3 * net.slots; i++)
    n.switchSend(sw, ep, frame(Buffer.from([2, 0, 0, 0, 0, 0x0a]), Buffer.from([2, 0, 0, 0, 0, 0x0e]), i, 1514));
  const c = g.h.counters();
  t.equal(c['net.rxPackets'] + c['net.rxDropped'], 3 * net.slots, 'every frame queued or dropped');
  t.ok(c['net.rxDropped'] >= 2 * net.slots, 'a full queue drops, it never spills');
  t.equal(net.pending(), c['net.rxPackets'], 'what was queued is in the rx queue');
  t.same(g.read(after, outside.length), outside, 'memory after the ring area is unchanged');
  t.same(g.read(TEXT, TEXT_LEN), text, 'the text is unchanged');
});

t.test('guestReadOnly is checked like every config field', async (t) => {
  const memFd = n.memfdCreate('g', MEM);
  t.teardown(() => fs.closeSync(memFd));
  const base = { memFd, memSize: MEM, ringsAddr: RINGS, devices: [] };
  t.throws(
    () => n.createGuestBroker({ ...base, guestReadOnly: [{ addr: MEM - 4096, len: 8192 }] }, () => {}),
    /config\.guestReadOnly\[0\] is outside guest memory/,
  );
  t.throws(
    () => n.createGuestBroker({ ...base, guestReadOnly: [{ addr: 0, len: 0 }] }, () => {}),
    /config\.guestReadOnly\[0\]\.len is 0, not an integer from 1/,
  );
  t.throws(() => n.createGuestBroker({ ...base, guestReadOnly: {} as [] }, () => {}), /^Usage: .*guestReadOnly must be an array/);
});
