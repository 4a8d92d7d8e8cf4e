// broker-native.test.ts: the addon's ring pumps, block/switch/tap/pcap backends, driven by the test acting as the guest.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import * as abi from '../lib/abi';
import { native, packageRoot, type BrokerConfig, type BrokerEvent, type BrokerHandle } from '../lib/native';

const MEM = 8 << 20;
const RINGS = 0x100000;
const BUF = 0x400000; // guest buffers used by the tests
const Q = abi.SN_QUEUE.offsets;
const NET = abi.SN_NET_DEV.offsets;
const BLK = abi.SN_BLK_DEV.offsets;
const REQ = abi.SN_BLK_REQ.offsets;
const CPL = abi.SN_BLK_CPL.offsets;

const n = native();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-broker-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

function image(name: string, bytes: number): { fd: number; file: string } {
  const file = path.join(tmp, name);
  const fd = fs.openSync(file, 'w+');
  fs.ftruncateSync(fd, bytes);
  return { fd, file };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** The test's view of guest memory: it plays the guest, which trusts its own memory. */
class GuestView {
  readonly events: BrokerEvent[] = [];
  readonly h: BrokerHandle;
  constructor(config: Omit<BrokerConfig, 'memFd' | 'memSize' | 'ringsAddr'>, memSize = MEM) {
    const memFd = n.memfdCreate('guest', memSize);
    this.h = n.createGuestBroker({ memFd, memSize, ringsAddr: RINGS, ...config }, (ev) => this.events.push(ev));
    fs.closeSync(memFd);
  }
  read(a: number, len: number): Buffer {
    return n.debugMapRead(this.h, a, len);
  }
  write(a: number, data: Buffer): void {
    n.debugMapWrite(this.h, a, data);
  }
  r32(a: number): number {
    return this.read(a, 4).readUInt32LE(0);
  }
  w32(a: number, v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.write(a, b);
  }
  r64(a: number): bigint {
    return this.read(a, 8).readBigUInt64LE(0);
  }
  w64(a: number, v: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    this.write(a, b);
  }
  dev(index: number): number {
    return RINGS + Number(this.r64(RINGS + abi.SN_RINGS_HDR.offsets.dev_off + 8 * index));
  }
  kickTender(): void {
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    fs.writeSync(this.h.doorbellFds[0], one);
  }
  /** Drains the to-guest doorbell; returns the count (0 when nobody rang). */
  kicked(): number {
    try {
      const b = Buffer.alloc(8);
      fs.readSync(this.h.doorbellFds[1], b);
      return Number(b.readBigUInt64LE(0));
    } catch {
      return 0;
    }
  }
}

interface Req {
  op: number;
  offset: bigint;
  addr: bigint;
  len: bigint;
  id: bigint;
}

/** The guest side of a block device's queues. */
class BlkGuest {
  readonly base: number;
  prod = 0;
  cons = 0;
  constructor(readonly g: GuestView, index: number) {
    this.base = g.dev(index);
  }
  post(r: Req): void {
    const slot = this.base + Number(this.g.r64(this.base + BLK.req_off)) + (this.prod % abi.SN_BLK_SLOTS) * 40;
    this.g.w32(slot + REQ.op, r.op);
    this.g.w64(slot + REQ.offset, r.offset);
    this.g.w64(slot + REQ.addr, r.addr);
    this.g.w64(slot + REQ.len, r.len);
    this.g.w64(slot + REQ.id, r.id);
    this.prod = (this.prod + 1) >>> 0;
    this.g.w32(this.base + BLK.req + Q.prod, this.prod);
    if (this.g.r32(this.base + BLK.req + Q.cons_waiting)) this.g.kickTender();
  }
  async complete(): Promise<{ id: bigint; status: number }> {
    await until(() => this.g.r32(this.base + BLK.cpl + Q.prod) !== this.cons, 'a block completion');
    const slot = this.base + Number(this.g.r64(this.base + BLK.cpl_off)) + (this.cons % abi.SN_BLK_SLOTS) * 16;
    const c = { id: this.g.r64(slot + CPL.id), status: this.g.r32(slot + CPL.status) };
    this.cons = (this.cons + 1) >>> 0;
    this.g.w32(this.base + BLK.cpl + Q.cons, this.cons);
    return c;
  }
  async run(r: Req): Promise<number> {
    this.post(r);
    const c = await this.complete();
    if (c.id !== r.id) throw new Error(`completion for id ${c.id}, expected ${r.id}`);
    return c.status;
  }
}

/** The guest side of a net device's queues. */
class NetGuest {
  readonly base: number;
  readonly stride: number;
  txProd = 0;
  rxCons = 0;
  constructor(readonly g: GuestView, index: number) {
    this.base = g.dev(index);
    this.stride = g.r32(this.base + NET.buf_stride);
  }
  send(frame: Buffer, len = frame.length): void {
    const i = this.txProd % abi.SN_NET_SLOTS;
    this.g.write(this.base + Number(this.g.r64(this.base + NET.tx_buf_off)) + i * this.stride, frame);
    this.g.w32(this.base + Number(this.g.r64(this.base + NET.tx_slots_off)) + i * 8, len);
    this.txProd = (this.txProd + 1) >>> 0;
    this.g.w32(this.base + NET.tx + Q.prod, this.txProd);
    if (this.g.r32(this.base + NET.tx + Q.cons_waiting)) this.g.kickTender();
  }
  pending(): number {
    return (this.g.r32(this.base + NET.rx + Q.prod) - this.rxCons) >>> 0;
  }
  receive(): Buffer | undefined {
    if (this.pending() === 0) return undefined;
    const i = this.rxCons % abi.SN_NET_SLOTS;
    const len = this.g.r32(this.base + Number(this.g.r64(this.base + NET.rx_slots_off)) + i * 8);
    const f = this.g.read(this.base + Number(this.g.r64(this.base + NET.rx_buf_off)) + i * this.stride, len);
    this.rxCons = (this.rxCons + 1) >>> 0;
    this.g.w32(this.base + NET.rx + Q.cons, this.rxCons);
    return f;
  }
}

function frame(dst: Buffer, src: Buffer, payload: number | Buffer, len = 60): Buffer {
  const f = Buffer.alloc(len);
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(0x88b5, 12); // local experimental ethertype
  if (typeof payload === 'number') f.writeUInt32BE(payload >>> 0, 14);
  else payload.copy(f, 14);
  return f;
}

const MAC_A = Buffer.from([0x02, 0, 0, 0, 0, 0x0a]);
const MAC_B = Buffer.from([0x02, 0, 0, 0, 0, 0x0b]);
const MAC_E = Buffer.from([0x02, 0, 0, 0, 0, 0x0e]);
const BCAST = Buffer.alloc(6, 0xff);

t.test('argument checks: Usage for types, one line naming the field for values', async (t) => {
  t.throws(() => (n.createGuestBroker as unknown as () => void)(), /^Usage: createGuestBroker/);
  const memFd = n.memfdCreate('g', MEM);
  t.teardown(() => fs.closeSync(memFd));
  const img = image('args.img', 1 << 20);
  const base = { memFd, memSize: MEM, ringsAddr: RINGS };
  const blk = { index: 1, name: 'disk', kind: 'block' as const, fd: img.fd, capacity: 1 << 20, blockSize: 512 };
  const cases: [string, unknown, RegExp][] = [
    ['memFd type', { ...base, memFd: 'x', devices: [] }, /^Usage: .*config\.memFd must be a number/],
    ['ringsAddr below the ring zone', { ...base, ringsAddr: 0x10000, devices: [] }, /config\.ringsAddr is 65536, not an integer from 131072/],
    ['unaligned memSize', { ...base, memSize: MEM + 1, devices: [] }, /memSize is not a multiple of the page size/],
    ['block size', { ...base, devices: [{ ...blk, blockSize: 1000 }] }, /device 'disk'\.blockSize 1000 is not a power of two/],
    ['capacity', { ...base, devices: [{ ...blk, capacity: 1000 }] }, /device 'disk'\.capacity 1000 is not a multiple of blockSize/],
    ['index twice', { ...base, devices: [blk, { ...blk, name: 'b' }] }, /index 1 is used twice/],
    ['index 64', { ...base, devices: [{ ...blk, index: 64 }] }, /index is 64, not an integer from 1 to 63/],
    ['kind', { ...base, devices: [{ ...blk, kind: 'tape' }] }, /^Usage: .*kind must be 'block' or 'net'/],
    ['mac', { ...base, devices: [{ index: 1, name: 'n', kind: 'net', mtu: 1500, mac: Buffer.alloc(5), backend: { type: 'switch', switchId: 1 } }] }, /mac must be a Buffer of 6 bytes/],
    ['switch', { ...base, devices: [{ index: 1, name: 'n', kind: 'net', mtu: 1500, mac: MAC_A, backend: { type: 'switch', switchId: 999999 } }] }, /switchId 999999: no such switch/],
    ['image smaller than capacity', { ...base, devices: [{ ...blk, capacity: 2 << 20 }] }, /device 'disk': image has 1048576 bytes, less than its capacity 2097152/],
    ['rings do not fit', { ...base, ringsAddr: MEM - 4096, devices: [blk] }, /ring area of \d+ bytes at \d+ does not fit/],
    ['memfd smaller than memSize', { ...base, memSize: MEM * 2, devices: [] }, /guest memory fd has 8388608 bytes, less than memSize/],
  ];
  for (const [name, cfg, re] of cases) t.throws(() => n.createGuestBroker(cfg as BrokerConfig, () => {}), re, name);
  const sw = n.createSwitch({ mtu: 1500 });
  t.teardown(() => n.destroySwitch(sw));
  t.throws(
    () => n.createGuestBroker({ ...base, devices: [{ index: 1, name: 'n', kind: 'net', mtu: 9000, mac: MAC_A, backend: { type: 'switch', switchId: sw } }] }, () => {}),
    /mtu 9000 exceeds the MTU 1500 of switch/,
  );
  t.throws(() => n.createSwitch({ mtu: 9001 }), /mtu is 9001, not an integer from 68 to 9000/);
  t.throws(() => n.switchSend(sw, 12345, Buffer.alloc(60)), /switchSend: no endpoint 12345/);
  t.throws(() => n.debugMapRead({} as BrokerHandle, 0, 1), /^Usage: debugMapRead/);
  fs.closeSync(img.fd);
});

t.test('the ring area as the guest sees it', async (t) => {
  const img = image('layout.img', 1 << 20);
  const sw = n.createSwitch({ mtu: 9000 });
  const g = new GuestView({
    entries: 5,
    devices: [
      { index: 3, name: 'disk', kind: 'block', fd: img.fd, capacity: 1 << 20, blockSize: 4096 },
      { index: 1, name: 'net0', kind: 'net', mtu: 9000, mac: MAC_A, backend: { type: 'switch', switchId: sw } },
    ],
  });
  t.teardown(() => {
    g.h.stop();
    n.destroySwitch(sw);
    fs.closeSync(img.fd);
  });
  t.equal(g.r64(RINGS), abi.SN_RINGS_MAGIC, 'magic');
  t.equal(g.r32(RINGS + abi.SN_RINGS_HDR.offsets.version), abi.SN_ABI_VERSION);
  t.equal(g.r32(RINGS + abi.SN_RINGS_HDR.offsets.entries), 5);
  t.equal(g.r64(RINGS + 16 + 8 * 2), 0n, 'entry 2 has no device');
  t.equal(g.h.ringsSize % 4096, 0, 'size is page aligned');
  const net = g.dev(1);
  const blk = g.dev(3);
  t.equal(net % 64, 0);
  t.equal(g.r32(net + NET.slots), abi.SN_NET_SLOTS);
  t.equal(g.r32(net + NET.mtu), 9000);
  t.ok(g.r32(net + NET.buf_stride) >= 9014 && g.r32(net + NET.buf_stride) % 64 === 0, 'stride');
  const rxEnd = net + Number(g.r64(net + NET.rx_buf_off)) + 256 * g.r32(net + NET.buf_stride);
  t.ok(rxEnd <= blk, 'net buffers end before the next device');
  t.equal(g.r32(blk + BLK.slots), abi.SN_BLK_SLOTS);
  t.equal(g.r32(blk + BLK.block_size), 4096);
  t.equal(g.r64(blk + BLK.capacity), 1n << 20n);
  const cplEnd = blk + Number(g.r64(blk + BLK.cpl_off)) + 64 * 16;
  t.ok(cplEnd <= RINGS + g.h.ringsSize, 'everything inside ringsSize');
  t.match(g.h.doorbellFds, [Number, Number]);
  g.h.stop();
  g.h.stop();
  t.throws(() => g.read(RINGS, 8), /stopped/, 'stop is idempotent and unmaps');
});
