// block-readahead.test.ts: the pump's sequential read-ahead returns the file's bytes, never stale, never past capacity.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import * as abi from '../lib/abi';
import { native, type BrokerConfig } from '../lib/native';
import { BlkGuest, frame, GuestView, MEM, NetGuest, until } from './support/ring-guest';
import { testSeed } from './support/seed';

const BUF = 0x400000; // guest buffer used by the tests
const BS = 4096;
// A window that never ages out while the test drives the guest from JavaScript,
// so that whether a read is served from it depends only on what the test does.
const FOREVER_US = 60_000_000;
const READ = abi.SN_BLK_OP_READ;
const WRITE = abi.SN_BLK_OP_WRITE;

const n = native();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-readahead-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const seed = testSeed();
let state = seed >>> 0 || 1;
function rand(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
}
function randomBytes(len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** An image file of `bytes` random bytes; the broker may be told a smaller capacity. */
function image(bytes: number): { fd: number; file: string; data: Buffer } {
  const file = path.join(tmp, `img-${Math.random().toString(16).slice(2)}`);
  const data = randomBytes(bytes);
  fs.writeFileSync(file, data);
  return { fd: fs.openSync(file, 'r+'), file, data };
}

type DiskOpts = { readAheadUs?: number; capacity?: number; fileBytes?: number; sameFileAs?: number };

/** A started broker with block devices (and optional extra config); the first device is 'disk' at index 1. */
function setup(t: Test, disks: DiskOpts[], extra: Partial<BrokerConfig> = {}) {
  const imgs: ReturnType<typeof image>[] = [];
  for (const d of disks) {
    const same = d.sameFileAs === undefined ? undefined : imgs[d.sameFileAs];
    imgs.push(same ? { ...same, fd: fs.openSync(same.file, 'r+') } : image(d.fileBytes ?? d.capacity ?? 64 * BS));
  }
  const devices: BrokerConfig['devices'] = disks.map((d, i) => ({
    index: i + 1,
    name: i === 0 ? 'disk' : `disk${i}`,
    kind: 'block' as const,
    fd: imgs[i].fd,
    capacity: d.capacity ?? 64 * BS,
    blockSize: BS,
    readAheadUs: d.readAheadUs ?? FOREVER_US,
  }));
  const g = new GuestView({ ...extra, devices: [...devices, ...(extra.devices ?? [])] });
  g.h.start();
  t.teardown(() => {
    g.h.stop();
    for (const img of imgs) fs.closeSync(img.fd);
  });
  const blks = disks.map((_, i) => new BlkGuest(g, i + 1));
  let id = 0n;
  const io = async (b: BlkGuest, op: number, block: number, addr = BUF, len = BS) =>
    b.run({ op, offset: BigInt(block * BS), addr: BigInt(addr), len: BigInt(len), id: ++id });
  const counters = () => g.h.counters();
  return { g, imgs, blks, io, counters };
}

t.test('sequential reads return the file bytes; served from the window after two reads in a row', async (t) => {
  const blocks = 64;
  const { g, imgs, blks, io, counters } = setup(t, [{ capacity: blocks * BS }]);
  for (let b = 0; b < blocks; b++) {
    t.equal(await io(blks[0], READ, b), abi.SN_BLK_ST_OK);
    if (!g.read(BUF, BS).equals(imgs[0].data.subarray(b * BS, (b + 1) * BS))) t.fail(`block ${b} differs from the file`);
  }
  const c = counters();
  t.equal(c['disk.reads'], blocks);
  t.equal(c['disk.readAheadHits'], blocks - 2, 'every read after the first two came from a window');
  // Windows of 2, 4, 8 and then 16 blocks (64 KiB), the last one ending at the capacity: never past it.
  t.equal(c['disk.readAheadBytes'], (blocks - 2) * BS, 'each block read ahead once, none past the capacity');
});

t.test('a read-ahead stops at the capacity even when the file goes on', async (t) => {
  const capacity = 16 * BS;
  const { g, imgs, blks, io, counters } = setup(t, [{ capacity, fileBytes: 32 * BS }]);
  for (let b = 0; b < 16; b++) t.equal(await io(blks[0], READ, b), abi.SN_BLK_ST_OK);
  t.same(g.read(BUF, BS), imgs[0].data.subarray(15 * BS, 16 * BS), 'the last block');
  t.equal(counters()['disk.readAheadBytes'], 14 * BS, 'windows of 2, 4 and 8 blocks, the last one ending at the capacity');
  t.equal(await io(blks[0], READ, 16), abi.SN_BLK_ST_EINVAL, 'past the capacity is still refused');
  t.equal(counters()['disk.ioErrors'], 0);
});

t.test('random reads read nothing ahead', async (t) => {
  const blocks = 256;
  const { g, imgs, blks, io, counters } = setup(t, [{ capacity: blocks * BS }]);
  let last = -2;
  for (let i = 0; i < 100; i++) {
    let b = Math.floor(rand() * blocks);
    if (b === last + 1) b = (b + 2) % blocks; // a read right after the one before would start a run
    last = b;
    t.equal(await io(blks[0], READ, b), abi.SN_BLK_ST_OK);
    if (!g.read(BUF, BS).equals(imgs[0].data.subarray(b * BS, (b + 1) * BS))) t.fail(`block ${b} differs from the file`);
  }
  t.equal(counters()['disk.readAheadBytes'], 0, 'no pread beyond the requests');
  t.equal(counters()['disk.readAheadHits'], 0);
});

t.test("the guest's write to a block in the window: the next read returns the new bytes", async (t) => {
  const { g, blks, io, counters } = setup(t, [{}]);
  await io(blks[0], READ, 0);
  await io(blks[0], READ, 1); // a run: blocks 2 and 3 are read ahead
  // The pump reads ahead after it has published the completion: wait for the window.
  await until(() => counters()['disk.readAheadBytes'] === 2 * BS, 'the window read');
  const fresh = randomBytes(BS);
  g.write(BUF + BS, fresh);
  t.equal(await io(blks[0], WRITE, 2, BUF + BS), abi.SN_BLK_ST_OK);
  t.equal(await io(blks[0], READ, 2), abi.SN_BLK_ST_OK);
  t.same(g.read(BUF, BS), fresh, 'the written bytes, not the window');
  t.equal(counters()['disk.readAheadHits'], 0, 'the write dropped the window');
  t.equal(await io(blks[0], READ, 3), abi.SN_BLK_ST_OK);
  t.equal(counters()['disk.readAheadHits'], 1, 'the run goes on with a new window');
});

t.test('a write through another device of the same guest on the same file drops the window', async (t) => {
  const { g, blks, io, counters } = setup(t, [{}, { sameFileAs: 0 }]);
  await io(blks[0], READ, 0);
  await io(blks[0], READ, 1);
  const fresh = randomBytes(BS);
  g.write(BUF + BS, fresh);
  t.equal(await io(blks[1], WRITE, 2, BUF + BS), abi.SN_BLK_ST_OK, 'written through the second name');
  t.equal(await io(blks[0], READ, 2), abi.SN_BLK_ST_OK);
  t.same(g.read(BUF, BS), fresh, 'the new bytes');
  t.equal(counters()['disk.readAheadHits'], 0, 'served from the file, not the window');
});

t.test('a frame delivered to the guest drops the window; without one it is served', async (t) => {
  const sw = n.createSwitch({ mtu: 1500 });
  const macE = Buffer.from([0x02, 0, 0, 0, 0, 0x0e]);
  const macA = Buffer.from([0x02, 0, 0, 0, 0, 0x0a]);
  const ep = n.switchAddEndpoint(sw, macE, () => {});
  const { g, blks, io, counters } = setup(t, [{}], {
    devices: [{ index: 9, name: 'net', kind: 'net', mtu: 1500, mac: macA, backend: { type: 'switch', switchId: sw } }],
  });
  t.teardown(() => n.destroySwitch(sw));
  const net = new NetGuest(g, 9);
  await io(blks[0], READ, 0);
  await io(blks[0], READ, 1);
  t.equal(await io(blks[0], READ, 2), abi.SN_BLK_ST_OK);
  t.equal(counters()['disk.readAheadHits'], 1, 'served from the window while nothing arrived');
  t.equal(n.switchSend(sw, ep, frame(macA, macE, 1)), true);
  await until(() => net.pending() === 1, 'the frame in rx');
  t.equal(await io(blks[0], READ, 3), abi.SN_BLK_ST_OK);
  t.equal(counters()['disk.readAheadHits'], 1, 'news from outside: read from the file');
});

t.test('a file changed from outside is read again once the window is older than readAheadUs', async (t) => {
  const { g, imgs, blks, io, counters } = setup(t, [{ readAheadUs: 1 }]);
  await io(blks[0], READ, 0);
  await io(blks[0], READ, 1);
  await until(() => counters()['disk.readAheadBytes'] === 2 * BS, 'the window read');
  const fresh = randomBytes(BS);
  fs.writeSync(imgs[0].fd, fresh, 0, BS, 2 * BS);
  t.equal(await io(blks[0], READ, 2), abi.SN_BLK_ST_OK);
  t.same(g.read(BUF, BS), fresh, 'the bytes written outside');
  t.equal(counters()['disk.readAheadHits'], 0);
});

t.test('a guest that writes each block after reading it gets little read-ahead', async (t) => {
  const blocks = 200;
  const { g, imgs, blks, io, counters } = setup(t, [{ capacity: blocks * BS }]);
  for (let b = 0; b < blocks; b++) {
    t.equal(await io(blks[0], READ, b), abi.SN_BLK_ST_OK);
    if (!g.read(BUF, BS).equals(imgs[0].data.subarray(b * BS, (b + 1) * BS))) t.fail(`block ${b} differs from the file`);
    g.write(BUF + BS, randomBytes(BS));
    t.equal(await io(blks[0], WRITE, b, BUF + BS), abi.SN_BLK_ST_OK);
  }
  const c = counters();
  t.equal(c['disk.readAheadHits'], 0, 'each write dropped the window before its block was read');
  t.ok(c['disk.readAheadBytes'] <= (blocks / 16) * BS, `windows shrank to an occasional probe (${c['disk.readAheadBytes'] / BS} blocks)`);
});

t.test('readAheadUs 0 turns read-ahead off', async (t) => {
  const { blks, io, counters } = setup(t, [{ readAheadUs: 0 }]);
  for (let b = 0; b < 8; b++) await io(blks[0], READ, b);
  t.equal(counters()['disk.readAheadBytes'], 0);
  t.equal(counters()['disk.readAheadHits'], 0);
});

t.test('a read served from a window still obeys the request checks', async (t) => {
  const ro = { addr: 0x600000, len: 0x1000 };
  const { g, imgs, blks, io, counters } = setup(t, [{}], { guestReadOnly: [ro] });
  await io(blks[0], READ, 0);
  await io(blks[0], READ, 1);
  const before = g.read(ro.addr, BS);
  t.equal(await io(blks[0], READ, 2, ro.addr), abi.SN_BLK_ST_EINVAL, 'not into read-only guest memory');
  t.same(g.read(ro.addr, BS), before, 'untouched');
  t.equal(await io(blks[0], READ, 2, MEM - BS / 2), abi.SN_BLK_ST_EINVAL, 'not past the end of guest memory');
  t.equal(await io(blks[0], READ, 2, 0), abi.SN_BLK_ST_EINVAL, 'not into the unmapped low page');
  t.equal(await io(blks[0], READ, 2), abi.SN_BLK_ST_OK, 'the same block into a writable buffer');
  t.same(g.read(BUF, BS), imgs[0].data.subarray(2 * BS, 3 * BS));
  t.equal(counters()['disk.readAheadHits'], 1, 'served from the window');
  t.equal(counters()['disk.invalid'], 3);
});

t.test('readAheadUs is range-checked', async (t) => {
  const memFd = n.memfdCreate('g', MEM);
  t.teardown(() => fs.closeSync(memFd));
  const img = image(BS);
  t.teardown(() => fs.closeSync(img.fd));
  const cfg = (readAheadUs: number) => ({
    memFd,
    memSize: MEM,
    ringsAddr: 0x100000,
    devices: [{ index: 1, name: 'disk', kind: 'block' as const, fd: img.fd, capacity: BS, blockSize: BS, readAheadUs }],
  });
  t.throws(
    () => n.createGuestBroker(cfg(60_000_001), () => {}),
    /device 'disk'\.readAheadUs is 60000001, not an integer from 0 to 60000000/,
  );
  t.throws(() => n.createGuestBroker(cfg(-1), () => {}), /readAheadUs is -1/);
});
