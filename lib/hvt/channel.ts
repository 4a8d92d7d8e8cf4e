// channel.ts: the tender's end of the debug socket to solo5-helper-debug: the typed messages of include/sn_hvt_debug.h.
import fs from 'node:fs';
import type { Socket } from 'node:net';

/* include/sn_hvt_debug.h; test/gdb-channel.test.ts compares them with the header. */
export const SN_PLAN_F_DUMPCORE = 8;
export const SN_PLAN_F_GDB = 16;
export const SN_DBG_DATA_MAX = 2048;
export const SN_DBG_HWBP_MAX = 4;
export const SN_DBG_MSG_SIZE = 24;
export const SN_DBG_REGS_SIZE = 8 * 31;
export const Op = {
  GET_REGS: 1,
  SET_REGS: 2,
  READ: 3,
  WRITE: 4,
  CONT: 5,
  STEP: 6,
  HWBP_SET: 7,
  HWBP_CLEAR: 8,
  DETACH: 9,
  INTERRUPT: 10,
  OK: 0x80,
  ERROR: 0x81,
  STOPPED: 0x82,
  EXITED: 0x83,
} as const;
export const STOP_STEP = 1;
export const STOP_HWBP = 2;
export const STOP_INTERRUPT = 4;

export interface DbgMsg {
  op: number;
  arg: number;
  addr: bigint;
  data: Buffer;
}

/** struct sn_dbg_regs: gpr[16] in gdb's amd64 order, rip, rflags, six selectors, fs/gs base, cr0-cr4 (no cr1), efer. */
export interface Regs {
  gpr: bigint[];
  rip: bigint;
  rflags: bigint;
  cs: bigint;
  ss: bigint;
  ds: bigint;
  es: bigint;
  fs: bigint;
  gs: bigint;
  fsBase: bigint;
  gsBase: bigint;
  cr0: bigint;
  cr2: bigint;
  cr3: bigint;
  cr4: bigint;
  efer: bigint;
}

const REG_TAIL = ['rip', 'rflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs', 'fsBase', 'gsBase', 'cr0', 'cr2', 'cr3', 'cr4', 'efer'] as const;

export function decodeRegs(b: Buffer): Regs | undefined {
  if (b.length !== SN_DBG_REGS_SIZE) return undefined;
  const q = (i: number) => b.readBigUInt64LE(8 * i);
  const r = { gpr: Array.from({ length: 16 }, (_, i) => q(i)) } as Partial<Regs> & Record<string, unknown>;
  REG_TAIL.forEach((k, i) => (r[k] = q(16 + i)));
  return r as Regs;
}

export function encodeRegs(r: Regs): Buffer {
  const b = Buffer.alloc(SN_DBG_REGS_SIZE);
  r.gpr.forEach((v, i) => b.writeBigUInt64LE(v, 8 * i));
  REG_TAIL.forEach((k, i) => b.writeBigUInt64LE(r[k], 8 * (16 + i)));
  return b;
}

export function encodeMsg(op: number, arg = 0, addr = 0n, data: Buffer = Buffer.alloc(0)): Buffer {
  if (data.length > SN_DBG_DATA_MAX) throw new RangeError(`debug message data of ${data.length} bytes`);
  const h = Buffer.alloc(SN_DBG_MSG_SIZE);
  h.writeUInt32LE(op, 0);
  h.writeUInt32LE(data.length, 4);
  h.writeUInt32LE(arg >>> 0, 8);
  h.writeBigUInt64LE(BigInt.asUintN(64, addr), 16);
  return Buffer.concat([h, data]);
}

/** One message as the helper wrote it, or undefined when it is not one (short, or its length disagrees). */
export function decodeMsg(b: Buffer): DbgMsg | undefined {
  if (b.length < SN_DBG_MSG_SIZE) return undefined;
  const len = b.readUInt32LE(4);
  if (len > SN_DBG_DATA_MAX || b.length !== SN_DBG_MSG_SIZE + len) return undefined;
  return { op: b.readUInt32LE(0), arg: b.readUInt32LE(8), addr: b.readBigUInt64LE(16), data: Buffer.from(b.subarray(SN_DBG_MSG_SIZE)) };
}

/** Splits the stream into messages; a header with an impossible length ends it (out of step). */
export class MsgReader {
  private buf = Buffer.alloc(0);
  broken = false;

  push(chunk: Buffer): DbgMsg[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: DbgMsg[] = [];
    while (!this.broken && this.buf.length >= SN_DBG_MSG_SIZE) {
      const len = this.buf.readUInt32LE(4);
      if (len > SN_DBG_DATA_MAX) {
        this.broken = true;
        break;
      }
      if (this.buf.length < SN_DBG_MSG_SIZE + len) break;
      out.push(decodeMsg(this.buf.subarray(0, SN_DBG_MSG_SIZE + len))!);
      this.buf = this.buf.subarray(SN_DBG_MSG_SIZE + len);
    }
    return out;
  }
}

/**
 * After the helper ended (its end of the socket closed, the tender's copy of it closed at the
 * spawn): the last message it left, the registers at its end; reading stops at end of stream.
 */
export function readLeft(fd: number): DbgMsg | undefined {
  const reader = new MsgReader();
  const b = Buffer.alloc(SN_DBG_MSG_SIZE + SN_DBG_DATA_MAX);
  let last: DbgMsg | undefined;
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, b, 0, b.length, null);
    } catch {
      return last;
    }
    if (n <= 0) return last;
    last = reader.push(b.subarray(0, n)).pop() ?? last;
  }
}

/**
 * The live channel while gdb drives the guest: one request at a time, each
 * answered by exactly one message (CONT and STEP by the next stop or the end).
 */
export class Channel {
  private readonly waiting: ((m: DbgMsg | undefined) => void)[] = [];
  private readonly queued: (DbgMsg | undefined)[] = [];
  private closed = false;
  /** Closed by close(): the fd number may already name another file, so nothing is written to it. */
  private shut = false;
  private lastExited: DbgMsg | undefined;
  /** Settles when the helper's end is gone, with the EXITED message it sent last, read or not. */
  readonly gone: Promise<DbgMsg | undefined>;

  constructor(
    private readonly fd: number,
    private readonly sock: Socket,
  ) {
    let onGone: (m: DbgMsg | undefined) => void = () => {};
    this.gone = new Promise((resolve) => (onGone = resolve));
    const reader = new MsgReader();
    sock.on('data', (b: Buffer) => {
      for (const m of reader.push(b)) this.deliver(m);
      if (reader.broken) sock.destroy();
    });
    sock.on('close', () => {
      this.closed = true;
      onGone(this.lastExited);
      for (const w of this.waiting.splice(0)) w(undefined);
    });
    sock.on('error', () => sock.destroy());
  }

  private deliver(m: DbgMsg | undefined): void {
    if (m?.op === Op.EXITED) this.lastExited = m;
    const w = this.waiting.shift();
    if (w) w(m);
    else this.queued.push(m);
  }

  /** The next message from the helper; undefined once it is gone (or it sent garbage). */
  next(): Promise<DbgMsg | undefined> {
    if (this.queued.length > 0) return Promise.resolve(this.queued.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /**
   * Done with the helper: the socket, and the fd with it, goes. A late
   * write (gdb's connection closing after the guest's end says detach)
   * would otherwise land on whatever file took the fd number next: another
   * guest's debug socket, say.
   */
  close(): void {
    this.shut = true;
    this.sock.destroy();
  }

  /** A request that gets no reply of its own (DETACH, INTERRUPT). */
  post(op: number): void {
    if (this.shut) return;
    try {
      fs.writeSync(this.fd, encodeMsg(op));
    } catch {
      // The helper is gone: nothing to detach from.
    }
  }

  request(op: number, arg = 0, addr = 0n, data?: Buffer): Promise<DbgMsg | undefined> {
    if (this.shut) return Promise.resolve(undefined);
    try {
      fs.writeSync(this.fd, encodeMsg(op, arg, addr, data));
    } catch {
      return Promise.resolve(undefined);
    }
    return this.next();
  }
}
