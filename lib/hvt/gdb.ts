// gdb.ts: the gdb stub's session: listens privately, turns RSP packets into the helper's typed debug requests.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Channel, decodeRegs, encodeRegs, Op, SN_DBG_DATA_MAX, SN_DBG_HWBP_MAX, STOP_HWBP, type DbgMsg, type Regs } from './channel';
import { encodePacket, fromHex, hexNumber, parseAddrLen, RSP_MAX_PACKET, RspDecoder, toHex } from './gdb-rsp';

/** gdb's amd64 'g' layout up to the segment selectors: 16 GPRs and rip (8 bytes), eflags and 6 selectors (4). */
const G_SIZE = 17 * 8 + 7 * 4;
const SEGS = ['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const;

export function encodeG(r: Regs): string {
  const b = Buffer.alloc(G_SIZE);
  r.gpr.forEach((v, i) => b.writeBigUInt64LE(v, 8 * i));
  b.writeBigUInt64LE(r.rip, 128);
  b.writeUInt32LE(Number(r.rflags & 0xffffffffn), 136);
  SEGS.forEach((k, i) => b.writeUInt32LE(Number(r[k] & 0xffffn), 140 + 4 * i));
  return toHex(b);
}

/** G: the general registers, rip and eflags change; the selectors stay (the helper applies only those). */
export function decodeG(hex: string, base: Regs): Regs | undefined {
  const b = fromHex(hex);
  if (!b || b.length < 17 * 8 + 4) return undefined;
  return {
    ...base,
    gpr: Array.from({ length: 16 }, (_, i) => b.readBigUInt64LE(8 * i)),
    rip: b.readBigUInt64LE(128),
    rflags: BigInt(b.readUInt32LE(136)),
  };
}

interface Slot {
  addr: bigint;
  type: '0' | '1';
}

/** What a stop looks like to gdb: its signal (SIGTRAP, a CPU exception's, SIGINT for ^C), and hwbreak for a debug register hit. */
export function stopReply(m: DbgMsg): string {
  const sig = ((m.arg >> 8) & 0xff || 5).toString(16).padStart(2, '0');
  return `T${sig}${(m.arg & 0xff) === STOP_HWBP ? 'hwbreak:;' : ''}thread:01;`;
}

/**
 * One gdb connection driving the helper. Packets are served one at a time, in
 * order; a request the helper refuses is E01 and the guest is untouched.
 */
export class GdbSession {
  private readonly slots: (Slot | undefined)[] = new Array<Slot | undefined>(SN_DBG_HWBP_MAX).fill(undefined);
  private last = 'S05';
  /** Settles with the registers at the guest's end (undefined if unknown) once the helper is done. */
  readonly finished: Promise<Regs | undefined>;
  private finish: (r: Regs | undefined) => void = () => {};

  private detached = false;
  /** The guest ended (or the helper went away): W or X09 was the last word. */
  private over = false;
  /** A c, s or vCont is being served: its stop is gdb's reply. */
  private running = false;
  /** Its CONT or STEP went to the helper. */
  private sent = false;
  /** gdb's ^C came during this run (one per run: the run's one stop answers it). */
  private interrupted = false;

  /**
   * `z0InDebugRegisters`: an upstream-ABI guest runs in ring 0, where PVM's emulator fails on a
   * KVM-intercepted int3 but honours debug registers; a ring-ABI guest's int3 (written by gdb
   * itself, Z0 unsupported) reaches its own trap handler, which hands the frame to the helper.
   */
  constructor(
    private readonly channel: Channel,
    private readonly kill: () => void,
    private readonly z0InDebugRegisters = false,
  ) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  /** The helper's first message: the stop at the entry. */
  async begin(): Promise<void> {
    const m = await this.channel.next();
    this.noteStop(m);
  }

  private noteStop(m: DbgMsg | undefined): string {
    if (m?.op === Op.STOPPED) return (this.last = stopReply(m));
    this.over = true;
    this.finish(m?.op === Op.EXITED ? decodeRegs(m.data) : undefined);
    return (this.last = m?.op === Op.EXITED ? `W${(m.arg & 0xff).toString(16).padStart(2, '0')}` : 'X09');
  }

  private async regs(): Promise<Regs | undefined> {
    const m = await this.channel.request(Op.GET_REGS);
    return m?.op === Op.OK ? decodeRegs(m.data) : undefined;
  }

  private async read(addr: bigint, len: number): Promise<string> {
    const parts: Buffer[] = [];
    for (let done = 0; done < len;) {
      const n = Math.min(SN_DBG_DATA_MAX, len - done);
      const m = await this.channel.request(Op.READ, n, addr + BigInt(done));
      if (m?.op !== Op.OK || m.data.length !== n) return 'E01';
      parts.push(m.data);
      done += n;
    }
    return toHex(Buffer.concat(parts));
  }

  private async write(addr: bigint, data: Buffer): Promise<string> {
    for (let done = 0; done < data.length; done += SN_DBG_DATA_MAX) {
      const m = await this.channel.request(Op.WRITE, 0, addr + BigInt(done), data.subarray(done, done + SN_DBG_DATA_MAX));
      if (m?.op !== Op.OK) return 'E01';
    }
    return 'OK';
  }

  /** Z1, and Z0 for a ring-0 guest: one of the four debug registers. */
  private async breakpoint(insert: boolean, type: '0' | '1', args: string): Promise<string> {
    const addr = hexNumber(args.split(',')[0] ?? '');
    if (addr === undefined) return 'E01';
    const at = this.slots.findIndex((s) => s?.addr === addr && s.type === type);
    if (!insert) {
      if (at < 0) return 'OK';
      this.slots[at] = undefined;
      return (await this.channel.request(Op.HWBP_CLEAR, at))?.op === Op.OK ? 'OK' : 'E01';
    }
    if (at >= 0) return 'OK';
    const free = this.slots.findIndex((s) => s === undefined);
    if (free < 0) return 'E01';
    const m = await this.channel.request(Op.HWBP_SET, free, addr);
    if (m?.op !== Op.OK) return 'E01';
    this.slots[free] = { addr, type };
    return 'OK';
  }

  private async resume(op: number, args: string): Promise<string> {
    // Set before the first await: a ^C right behind this packet finds the run (see interrupt()).
    this.running = true;
    try {
      if (args !== '') {
        const addr = hexNumber(args);
        const r = addr === undefined ? undefined : await this.regs();
        if (!r || addr === undefined) return 'E01';
        if ((await this.channel.request(Op.SET_REGS, 0, 0n, encodeRegs({ ...r, rip: addr })))?.op !== Op.OK) return 'E01';
      }
      const stop = this.channel.request(op);
      this.sent = true;
      if (this.interrupted) this.channel.post(Op.INTERRUPT);
      const m = await stop;
      if (m?.op === Op.ERROR) return 'E01';
      return this.noteStop(m);
    } finally {
      this.running = this.sent = this.interrupted = false;
    }
  }

  /**
   * gdb's ^C, out of turn (the run's packet is still waiting for its stop).
   * Only during a run: the helper stops the guest with SIGINT, or drops the
   * request when the guest stopped or ended first, so that the run's one
   * reply stays the one stop gdb gets.
   */
  interrupt(): void {
    if (!this.running || this.interrupted || this.detached) return;
    this.interrupted = true;
    if (this.sent) this.channel.post(Op.INTERRUPT);
  }

  /** vCont with one thread: the first action says it (c/C continue, s/S step; a signal to pass is dropped). */
  private vCont(actions: string): Promise<string> | string {
    const first = /^;([cCsS])([0-9a-fA-F]{2})?(:[-0-9a-fA-F.p]+)?(;|$)/.exec(actions);
    if (!first) return 'E01';
    return this.resume(first[1].toLowerCase() === 'c' ? Op.CONT : Op.STEP, '');
  }

  /**
   * gdb is done (D, or its connection closed): the guest runs on undebugged, and the
   * channel still brings its end (the registers for a core).
   */
  detach(): void {
    // After the guest's end there is nobody to detach from (and gdb's connection closing then is the usual end).
    if (this.detached || this.over) return;
    this.detached = true;
    this.channel.post(Op.DETACH);
    void this.channel.next().then((m) => this.noteStop(m));
  }

  /** One packet's answer; undefined: no answer (k, and D after its OK). */
  async handle(p: string): Promise<string | undefined> {
    const cmd = p[0] ?? '';
    const rest = p.slice(1);
    switch (cmd) {
      case '?':
        return this.last;
      case 'g': {
        const r = await this.regs();
        return r ? encodeG(r) : 'E01';
      }
      case 'G': {
        const base = await this.regs();
        const r = base && decodeG(rest, base);
        if (!r) return 'E01';
        return (await this.channel.request(Op.SET_REGS, 0, 0n, encodeRegs(r)))?.op === Op.OK ? 'OK' : 'E01';
      }
      case 'm': {
        const a = parseAddrLen(rest);
        return a ? this.read(a.addr, a.len) : 'E01';
      }
      case 'M': {
        const [head, hex] = rest.split(':');
        const a = parseAddrLen(head ?? '');
        const data = fromHex(hex ?? '');
        return a && data && data.length === a.len ? this.write(a.addr, data) : 'E01';
      }
      case 'c':
        return this.resume(Op.CONT, rest);
      case 's':
        return this.resume(Op.STEP, rest);
      case 'C':
      case 'S': {
        // With a signal gdb means to pass (after a SIGSEGV stop, say): a guest has no signals, so as c and s.
        const m = /^[0-9a-fA-F]{2}(?:;(.*))?$/.exec(rest);
        return m ? this.resume(cmd === 'C' ? Op.CONT : Op.STEP, m[1] ?? '') : 'E01';
      }
      case 'v':
        if (p === 'vCont?') return 'vCont;c;C;s;S';
        if (p.startsWith('vCont;')) return this.vCont(p.slice(5));
        return '';
      case 'Z':
      case 'z':
        if (rest[0] !== '1' && !(rest[0] === '0' && this.z0InDebugRegisters)) return '';
        return this.breakpoint(cmd === 'Z', rest[0], rest.slice(2));
      case 'k':
        this.kill();
        return undefined;
      case 'D':
        this.detach();
        return 'OK';
      case 'H':
      case 'T':
        return 'OK';
      case 'q':
        if (p.startsWith('qSupported')) return `PacketSize=${RSP_MAX_PACKET.toString(16)};hwbreak+`;
        if (p === 'qAttached') return '1';
        if (p === 'qC') return 'QC01';
        if (p === 'qfThreadInfo') return 'm01';
        if (p === 'qsThreadInfo') return 'l';
        return '';
      default:
        return '';
    }
  }
}

export interface GdbListenOptions {
  port?: number;
  kernel: string;
  kill: () => void;
  message: (line: string) => void;
  /** See GdbSession. */
  z0InDebugRegisters?: boolean;
}

/**
 * Listen for one gdb: on a Unix socket (0600) in a fresh private directory,
 * or on 127.0.0.1:port. The first connection is the session; the listener
 * then closes, so nobody else can connect.
 */
export function listenForGdb(channel: Channel, o: GdbListenOptions): { finished: Promise<Regs | undefined>; close(): void } {
  let conn: net.Socket | undefined;
  const server = net.createServer({ pauseOnConnect: false });
  let dir: string | undefined;
  const cleanup = () => {
    server.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  };
  const session = new GdbSession(channel, o.kill, o.z0InDebugRegisters);
  const ready = session.begin();
  server.on('connection', (sock) => {
    if (conn) return void sock.destroy();
    conn = sock;
    cleanup();
    serve(sock, session, ready);
    // gdb gone without a word: the guest runs on, as after D.
    sock.on('close', () => void ready.then(() => session.detach()));
  });
  let where: string;
  if (o.port !== undefined) {
    where = `127.0.0.1:${o.port}`;
    const line = `solo5-hvt: gdb stub on ${where} (loopback: every local user can connect); waiting for gdb: gdb ${o.kernel} -ex 'target remote ${where}'`;
    // Said once it listens (a TCP listen completes after a lookup), so whoever acts on the line can connect.
    server.once('listening', () => o.message(line));
    server.listen(o.port, '127.0.0.1');
  } else {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-gdb-'));
    where = path.join(dir, 'gdb.sock');
    const line = `solo5-hvt: waiting for gdb: gdb ${o.kernel} -ex 'target remote ${where}'`;
    server.once('listening', () => o.message(line));
    const old = process.umask(0o177);
    try {
      server.listen(where);
    } finally {
      process.umask(old);
    }
  }
  // A port in use, say: nobody could ever continue the guest, so it ends now rather than wait forever.
  server.on('error', (e) => {
    o.message(`solo5-hvt: gdb stub: cannot listen on ${where}: ${e.message}; the guest is killed`);
    o.kill();
  });
  return {
    finished: session.finished,
    close() {
      cleanup();
      // Ended, not destroyed: gdb still has to read the last reply (W00) and ack it; a reset
      // there is "Remote communication error ... Broken pipe". Unref'd, so it holds nothing open.
      conn?.end();
      conn?.unref();
    },
  };
}

function serve(sock: net.Socket, session: GdbSession, ready: Promise<void>): void {
  const decoder = new RspDecoder();
  let chain: Promise<void> = ready;
  // Packets are served in turn; a ^C is for the run started by the last packet before it.
  let received = 0;
  let started = 0;
  let interruptAt = 0;
  sock.on('data', (chunk: Buffer) => {
    for (const ev of decoder.push(chunk)) {
      if (ev.type === 'bad') sock.write('-');
      if (ev.type === 'interrupt') {
        if (started === received) session.interrupt();
        else interruptAt = received;
      }
      if (ev.type !== 'packet') continue;
      sock.write('+');
      const n = ++received;
      chain = chain.then(async () => {
        const pending = session.handle(ev.data);
        started = n;
        if (interruptAt === n) session.interrupt();
        const reply = await pending;
        if (reply !== undefined && !sock.destroyed) sock.write(encodePacket(reply));
        if (reply?.startsWith('W') || reply === 'X09') sock.end();
      });
    }
  });
  sock.on('error', () => sock.destroy());
}
