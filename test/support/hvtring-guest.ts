// hvtring-guest.ts: the tests' guest side of upstream Solo5's hvt net ring: a broker serving it and the test's own mapping.
import fs from 'node:fs';
import * as abi from '../../lib/abi';
import { native, type BrokerConfig, type BrokerEvent, type BrokerHandle } from '../../lib/native';
import { testNative, type GuestMap } from './native-test';
import { until } from './ring-guest';

/** 8 MiB of memory, the guest sees 6: the ring sits at 6 MiB as upstream's tender places it (boot info mem_size). */
export const MEM = 8 << 20;
export const VISIBLE = 6 << 20;
/** Where the tests' guest keeps its frame buffers. */
export const BUF = 0x200000;
export const MTU = 1500;

const R = abi.SN_SOLO5_HVT_RING.offsets;
const E = abi.SN_SOLO5_HVT_RING_ENTRY;
const C = abi.SN_SOLO5_HVT_RING_COMMIT;
const MASK = abi.SN_SOLO5_HVT_RING_SLOTS - 1;

export interface RingEntry {
  op: number;
  handle: number;
  data: number | bigint;
  len: number;
  id: number;
}

export interface RingCommit {
  id: number;
  ret: number;
  len: number;
}

/**
 * A broker with one net device (handle 1, "net0") whose fd is the guest's end
 * of a seqpacket pair, as the helper's would be; the test holds the other end
 * (`peer`) and plays both the network and the guest.
 */
export class HvtRingGuest {
  readonly events: BrokerEvent[] = [];
  readonly h: BrokerHandle;
  readonly map: GuestMap;
  readonly peer: number;
  private readonly guestEnd: number;
  tail = 0;
  comHead = 0;
  constructor(extra: Partial<BrokerConfig> = {}) {
    const memFd = native().memfdCreate('hvtring-guest', MEM);
    [this.peer, this.guestEnd] = native().socketpairSeqpacket();
    try {
      this.h = native().createGuestBroker(
        {
          memFd,
          memSize: MEM,
          ringsAddr: 0,
          solo5: true,
          devices: [],
          hvtRing: { addr: VISIBLE, nets: [{ index: 1, name: 'net0', fd: this.guestEnd, mtu: MTU }] },
          ...extra,
        },
        (ev) => this.events.push(ev),
      );
      const kick = this.h.hvtKickFd;
      this.map = testNative().mapGuest({ memFd, memSize: MEM, ringsAddr: 0, doorbellFds: [kick, kick] });
    } finally {
      fs.closeSync(memFd);
    }
  }
  r32(a: number): number {
    return this.map.read(a, 4).readUInt32LE(0);
  }
  w32(a: number, v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.map.write(a, b);
  }
  ring(field: keyof typeof R): number {
    return this.r32(VISIBLE + R[field]);
  }
  /** Fills the entry at ent_tail without publishing it. */
  fill(e: RingEntry, at = this.tail): void {
    const b = Buffer.alloc(E.size);
    b.writeUInt32LE(e.op >>> 0, E.offsets.operation);
    b.writeUInt32LE(e.handle >>> 0, E.offsets.handle);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(e.data)), E.offsets.data);
    b.writeUInt32LE(e.len >>> 0, E.offsets.len);
    b.writeUInt32LE(e.id >>> 0, E.offsets.id);
    this.map.write(VISIBLE + R.ent + (at & MASK) * E.size, b);
  }
  /** As the guest does: fill, ent_tail++, fence (map.write fences), kick only when the pump asked for it. */
  submit(e: RingEntry, kick = true): void {
    this.fill(e);
    this.tail = (this.tail + 1) >>> 0;
    this.w32(VISIBLE + R.ent_tail, this.tail);
    if (kick && this.ring('needs_kick') !== 0) this.kick();
  }
  kick(): void {
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    fs.writeSync(this.h.hvtKickFd, one);
  }
  /** Waits for the next commit and takes it (com_head++). */
  async commit(): Promise<RingCommit> {
    await until(() => this.ring('com_tail') !== this.comHead, 'a ring commit');
    const at = VISIBLE + R.com + (this.comHead & MASK) * C.size;
    const b = this.map.read(at, C.size);
    this.comHead = (this.comHead + 1) >>> 0;
    this.w32(VISIBLE + R.com_head, this.comHead);
    return { id: b.readUInt32LE(C.offsets.id), ret: b.readInt32LE(C.offsets.ret), len: b.readUInt32LE(C.offsets.len) };
  }
  /** A synchronous NET_READ into `data`, as the guest's solo5_net_read does it. */
  async read(data: number, len: number, id = 7, handle = 1): Promise<RingCommit> {
    this.submit({ op: abi.SN_SOLO5_HVT_RING_OP_NET_READ, handle, data, len, id });
    return this.commit();
  }
  /** Writes the frame at `data` and queues a NET_WRITE of it. */
  write(frame: Buffer, data = BUF, handle = 1): void {
    this.map.write(data, frame);
    this.submit({ op: abi.SN_SOLO5_HVT_RING_OP_NET_WRITE, handle, data, len: frame.length, id: 0 });
  }
  /** The next frame the network side receives. */
  async received(): Promise<Buffer> {
    const b = Buffer.alloc(65536);
    let n = -1;
    await until(() => {
      try {
        n = fs.readSync(this.peer, b);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        return false;
      }
    }, 'a frame from the ring');
    return b.subarray(0, n);
  }
  /** Nothing waits at the network side now. */
  nothingReceived(): boolean {
    try {
      fs.readSync(this.peer, Buffer.alloc(65536));
      return false;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      return true;
    }
  }
  counter(name: string): number {
    return this.h.counters()[name] ?? -1;
  }
  stop(): void {
    this.h.stop();
    this.map.unmap();
    fs.closeSync(this.peer);
    fs.closeSync(this.guestEnd);
  }
}

/** An Ethernet frame with a sequence number after the header. */
export function ringFrame(seq: number, size = 60): Buffer {
  const f = Buffer.alloc(size);
  f.fill(0xee, 0, 12);
  f.writeUInt16BE(0x88b5, 12);
  f.writeUInt32BE(seq, 14);
  for (let i = 18; i < size; i++) f[i] = (seq + i) & 0xff;
  return f;
}
