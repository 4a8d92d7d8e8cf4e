// stream-peer.ts: the test's side of a framed stream (a 4-byte big-endian length before each frame), standing in for QEMU or passt.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface StreamPeerEvents {
  frame: [frame: Buffer];
  close: [];
}

/** One accepted connection: decodes the tender's frames and sends frames (or raw bytes) back. */
export class StreamPeer extends EventEmitter<StreamPeerEvents> {
  private pending: Buffer = Buffer.alloc(0);
  /** Frames received so far. */
  received = 0;

  constructor(
    readonly sock: net.Socket,
    readonly mac: Buffer,
  ) {
    super();
    sock.on('data', (b: Buffer) => this.take(b));
    sock.on('close', () => this.emit('close'));
    sock.on('error', () => {});
  }

  private take(b: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, b]) : b;
    while (this.pending.length >= 4) {
      const len = this.pending.readUInt32BE(0);
      if (this.pending.length < 4 + len) break;
      const f = Buffer.from(this.pending.subarray(4, 4 + len));
      this.pending = this.pending.subarray(4 + len);
      this.received++;
      this.emit('frame', f);
    }
  }

  /** Frames one Ethernet frame; false when the socket buffers it in user space (the tender reads slowly). */
  send(frame: Buffer): boolean {
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(frame.length);
    return this.sock.write(Buffer.concat([hdr, frame]));
  }

  /** Bytes as they are, framing or not. */
  sendRaw(b: Buffer): boolean {
    return this.sock.write(b);
  }
}

/** A listener in a private 0700 directory (only this user can connect); removed on close. */
export class StreamListener {
  readonly path: string;
  private readonly server: net.Server;
  private readonly dir: string;
  private readonly waiting: ((s: net.Socket) => void)[] = [];
  private readonly ready: net.Socket[] = [];

  private constructor(dir: string, server: net.Server) {
    this.dir = dir;
    this.path = path.join(dir, 'link.sock');
    this.server = server;
    server.on('connection', (s) => {
      const w = this.waiting.shift();
      if (w) w(s);
      else this.ready.push(s);
    });
  }

  static async open(): Promise<StreamListener> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-stream-'));
    const l = new StreamListener(dir, net.createServer());
    await new Promise<void>((resolve, reject) => {
      l.server.once('error', reject);
      l.server.listen(l.path, () => resolve());
    });
    return l;
  }

  /** The next connection, as a peer with MAC `mac`. */
  accept(mac: Buffer): Promise<StreamPeer> {
    const s = this.ready.shift();
    if (s) return Promise.resolve(new StreamPeer(s, mac));
    return new Promise((resolve) => this.waiting.push((sock) => resolve(new StreamPeer(sock, mac))));
  }

  close(): void {
    this.server.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
