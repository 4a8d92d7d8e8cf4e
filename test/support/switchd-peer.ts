// switchd-peer.ts: a test's own port on a solo5-switch socket, speaking the 4-byte big-endian length framing.
import net from 'node:net';
import { until } from './ring-guest';

/** An Ethernet frame: dst, src, EtherType 0x88b5 and a payload that carries `seq`, padded to `size`. */
export function eth(dst: Buffer, src: Buffer, seq: number, size = 64): Buffer {
  const f = Buffer.alloc(Math.max(size, 20));
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  f.writeUInt32BE(seq >>> 0, 14);
  return f;
}

export function framed(frames: Buffer[]): Buffer {
  return Buffer.concat(
    frames.flatMap((f) => {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(f.length);
      return [h, f];
    }),
  );
}

export class Peer {
  readonly frames: Buffer[] = [];
  closed = false;
  private pending = Buffer.alloc(0);
  private constructor(readonly sock: net.Socket) {
    sock.on('data', (b: Buffer) => {
      this.pending = Buffer.concat([this.pending, b]);
      while (this.pending.length >= 4) {
        const len = this.pending.readUInt32BE(0);
        if (this.pending.length < 4 + len) break;
        this.frames.push(Buffer.from(this.pending.subarray(4, 4 + len)));
        this.pending = this.pending.subarray(4 + len);
      }
    });
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => (this.closed = true));
  }

  static connect(path: string): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const s = net.connect(path, () => resolve(new Peer(s)));
      s.once('error', reject);
    });
  }

  /**
   * connect() to a daemon in another process that may have bound its socket file but not
   * listened yet (it sets the file's mode in between): ECONNREFUSED or ENOENT until it listens.
   */
  static async connectListening(path: string, ms = 120_000): Promise<Peer> {
    const end = Date.now() + ms;
    for (;;) {
      try {
        return await Peer.connect(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code !== 'ECONNREFUSED' && code !== 'ENOENT') || Date.now() > end) throw e;
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  }

  send(...frames: Buffer[]): void {
    this.sock.write(framed(frames));
  }

  /** Frames carrying EtherType 0x88b5 from `src`, in arrival order, as their sequence numbers. */
  seqsFrom(src: Buffer): number[] {
    return this.frames.filter((f) => f.subarray(6, 12).equals(src) && f.readUInt16BE(12) === 0x88b5).map((f) => f.readUInt32BE(14));
  }

  async waitFrames(n: number, what: string): Promise<void> {
    await until(() => this.frames.length >= n, `${what} (${this.frames.length} of ${n} frames so far)`);
  }

  async waitClosed(what: string): Promise<void> {
    await until(() => this.closed, what);
  }

  end(): void {
    this.sock.destroy();
  }
}
