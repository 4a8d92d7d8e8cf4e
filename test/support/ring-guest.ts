// ring-guest.ts: the tests' guest side of the ring ABI: a broker plus the test's own mapping of guest memory.
import fs from 'node:fs';
import * as abi from '../../lib/abi';
import { native, type BrokerConfig, type BrokerEvent, type BrokerHandle } from '../../lib/native';
import { testNative, type GuestMap } from './native-test';

export const MEM = 8 << 20;
export const RINGS = 0x100000;
const Q = abi.SN_QUEUE.offsets;
const NET = abi.SN_NET_DEV.offsets;
const BLK = abi.SN_BLK_DEV.offsets;
const REQ = abi.SN_BLK_REQ.offsets;
const CPL = abi.SN_BLK_CPL.offsets;

/** Polls cond (each turn of the event loop gives the pump thread's events a chance) until it holds. */
export async function until(cond: () => boolean, what: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** The test's view of guest memory: it plays the guest, which trusts its own memory. */
export class GuestView {
  readonly events: BrokerEvent[] = [];
  readonly h: BrokerHandle;
  readonly map: GuestMap;
  constructor(config: Omit<BrokerConfig, 'memFd' | 'memSize' | 'ringsAddr'>, memSize = MEM) {
    const memFd = native().memfdCreate('guest', memSize);
    try {
      this.h = native().createGuestBroker({ memFd, memSize, ringsAddr: RINGS, ...config }, (ev) => this.events.push(ev));
      this.map = testNative().mapGuest({ memFd, memSize, ringsAddr: RINGS, doorbellFds: this.h.doorbellFds });
    } finally {
      fs.closeSync(memFd);
    }
  }
  read(a: number, len: number): Buffer {
    return this.map.read(a, len);
  }
  write(a: number, data: Buffer): void {
    this.map.write(a, data);
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
  /** Stops the broker and drops the test's mapping. */
  stop(): void {
    this.h.stop();
    this.map.unmap();
  }
}

export interface Req {
  op: number;
  offset: bigint;
  addr: bigint;
  len: bigint;
  id: bigint;
}

/** The guest side of a block device's queues. */
export class BlkGuest {
  readonly base: number;
  readonly slots: number;
  prod = 0;
  cons = 0;
  constructor(
    readonly g: GuestView,
    index: number,
  ) {
    this.base = g.dev(index);
    this.slots = g.r32(this.base + BLK.slots);
  }
  post(r: Req): void {
    const slot = this.base + Number(this.g.r64(this.base + BLK.req_off)) + (this.prod % this.slots) * 40;
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
    const slot = this.base + Number(this.g.r64(this.base + BLK.cpl_off)) + (this.cons % this.slots) * 16;
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
export class NetGuest {
  readonly base: number;
  readonly stride: number;
  readonly slots: number;
  txProd = 0;
  rxCons = 0;
  constructor(
    readonly g: GuestView,
    index: number,
  ) {
    this.base = g.dev(index);
    this.stride = g.r32(this.base + NET.buf_stride);
    this.slots = g.r32(this.base + NET.slots);
  }
  send(frame: Buffer, len = frame.length): void {
    const i = this.txProd % this.slots;
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
    const i = this.rxCons % this.slots;
    const len = this.g.r32(this.base + Number(this.g.r64(this.base + NET.rx_slots_off)) + i * 8);
    const f = this.g.read(this.base + Number(this.g.r64(this.base + NET.rx_buf_off)) + i * this.stride, len);
    this.rxCons = (this.rxCons + 1) >>> 0;
    this.g.w32(this.base + NET.rx + Q.cons, this.rxCons);
    return f;
  }
}

/** An Ethernet frame with the local experimental ethertype and a 32-bit number (or bytes) as payload. */
export function frame(dst: Buffer, src: Buffer, payload: number | Buffer, len = 60): Buffer {
  const f = Buffer.alloc(len);
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  if (typeof payload === 'number') f.writeUInt32BE(payload >>> 0, 14);
  else payload.copy(f, 14);
  return f;
}
