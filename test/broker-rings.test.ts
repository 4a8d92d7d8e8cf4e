// broker-rings.test.ts: ring areas sized to ringsMax: fewer slots when memory is short, ERINGS when even the minimum does not fit.
import fs from 'node:fs';
import t, { type Test } from 'tap';
import * as abi from '../lib/abi';
import { native, type DeviceConfig } from '../lib/native';
import { imageMaker } from './support/images';
import { BlkGuest, frame, GuestView, NetGuest, until } from './support/ring-guest';

const n = native();
const image = imageMaker('sn-rings-');
const NET = abi.SN_NET_DEV.offsets;
const BLK = abi.SN_BLK_DEV.offsets;
const MAC = Buffer.from([2, 0, 0, 0, 0, 0x0a]);
const PEER = Buffer.from([2, 0, 0, 0, 0, 0x0e]);

function devices(t: Test, withBlock: boolean): { devs: DeviceConfig[]; sw: number } {
  const sw = n.createSwitch({ mtu: 1500 });
  t.teardown(() => n.destroySwitch(sw));
  const devs: DeviceConfig[] = [{ index: 1, name: 'net', kind: 'net', mtu: 1500, mac: MAC, backend: { type: 'switch', switchId: sw } }];
  if (withBlock) {
    const fd = fs.openSync(image(`r${devs.length}${Math.random()}.img`, 1 << 20), 'r+');
    t.teardown(() => fs.closeSync(fd));
    devs.push({ index: 2, name: 'disk', kind: 'block', fd, capacity: 1 << 20, blockSize: 512 });
  }
  return { devs, sw };
}

function ringsError(f: () => unknown): { code?: string; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected createGuestBroker to throw');
}

t.test('without ringsMax every queue gets the ABI maximum', async (t) => {
  const { devs } = devices(t, true);
  const g = new GuestView({ devices: devs });
  t.teardown(() => g.stop());
  t.equal(g.r32(g.dev(1) + NET.slots), abi.SN_NET_SLOTS);
  t.equal(g.r32(g.dev(2) + BLK.slots), abi.SN_BLK_SLOTS);
});

t.test('a smaller ringsMax halves the largest queues first, and the smaller rings carry traffic', async (t) => {
  const { devs, sw } = devices(t, true);
  const full = new GuestView({ devices: devs });
  const fullSize = full.h.ringsSize;
  full.stop();
  const sizes: number[] = [];
  for (const max of [fullSize, Math.floor(fullSize / 2), 200 << 10, 100 << 10]) {
    const g = new GuestView({ devices: devs, ringsMax: max });
    const net = g.r32(g.dev(1) + NET.slots);
    const blk = g.r32(g.dev(2) + BLK.slots);
    t.ok(g.h.ringsSize <= max, `ringsMax ${max}: area of ${g.h.ringsSize} bytes, ${net} net slots, ${blk} block slots`);
    t.ok(net >= 16 && (net & (net - 1)) === 0, 'net slots a power of two, at least 16');
    t.equal(blk, abi.SN_BLK_SLOTS, 'the block queues are too small to be worth halving');
    sizes.push(g.h.ringsSize);
    g.stop();
  }
  t.same(
    [...sizes].sort((a, b) => b - a),
    sizes,
    'sizes shrink with ringsMax',
  );
  // Wrap the smallest queues several times over, both ways.
  const g = new GuestView({ devices: devs, ringsMax: 100 << 10 });
  g.h.start();
  t.teardown(() => g.stop());
  const got: Buffer[] = [];
  const ep = n.switchAddEndpoint(sw, PEER, (f) => got.push(...f));
  const net = new NetGuest(g, 1);
  t.equal(net.slots, 16);
  for (let i = 0; i < 5 * net.slots; i++) {
    n.switchSend(sw, ep, frame(MAC, PEER, i));
    const f = net.receive();
    if (f?.readUInt32BE(14) !== i) t.fail(`rx ${i}: ${f?.readUInt32BE(14)}`);
    net.send(frame(PEER, MAC, i));
    await until(() => got.length > i, `tx frame ${i} at the endpoint`);
  }
  t.equal(got.length, 5 * net.slots, 'every frame through the 16-slot tx queue');
  t.same(
    got.map((f) => f.readUInt32BE(14)),
    [...Array(5 * net.slots).keys()],
    'in order',
  );
  const blk = new BlkGuest(g, 2);
  for (let i = 0; i < 3 * blk.slots; i++) {
    const st = await blk.run({ op: abi.SN_BLK_OP_READ, offset: 0n, addr: 0x500000n, len: 512n, id: BigInt(i + 1) });
    if (st !== 0) t.fail(`block request ${i}: ${st}`);
  }
  t.equal(g.h.drain(), undefined);
});

t.test('ringsMax below the minimum throws ERINGS with the bytes needed, and that many bytes fit', async (t) => {
  for (const withBlock of [false, true]) {
    const { devs } = devices(t, withBlock);
    const e = ringsError(() => new GuestView({ devices: devs, ringsMax: 4096 }));
    t.equal(e.code, 'ERINGS');
    const m = /the rings of (\d) device\(s\) need at least (\d+) bytes, more than the 4096 bytes allowed \(ringsMax\)/.exec(e.message);
    t.ok(m, e.message);
    const need = Number(m?.[2]);
    const g = new GuestView({ devices: devs, ringsMax: need });
    t.equal(g.h.ringsSize, need, `${need} bytes: the minimum rings exactly`);
    t.equal(g.r32(g.dev(1) + NET.slots), 16);
    if (withBlock) t.ok(g.r32(g.dev(2) + BLK.slots) >= 8, 'block slots at least the minimum');
    g.stop();
    t.equal(ringsError(() => new GuestView({ devices: devs, ringsMax: need - 1 })).code, 'ERINGS', 'one byte less does not');
  }
});

t.test('--mem=2: a net device, a 100 KiB image and 512 KiB of heap and stack fit in 2 MiB', async (t) => {
  const { devs } = devices(t, false);
  const mem = 2 << 20;
  const imageEnd = 0x100000 + (100 << 10);
  const heap = 512 << 10;
  const ringsMax = mem - imageEnd - heap;
  const memFd = n.memfdCreate('g', mem);
  t.teardown(() => fs.closeSync(memFd));
  const h = n.createGuestBroker({ memFd, memSize: mem, ringsAddr: imageEnd, ringsMax, devices: devs }, () => {});
  t.teardown(() => h.stop());
  t.ok(
    imageEnd + h.ringsSize + heap <= mem,
    `rings of ${h.ringsSize} bytes leave ${mem - imageEnd - h.ringsSize} bytes for heap and stack`,
  );
});
