// gdb-stub.ts: for the hvt gdb stub's tests: a guest launched under the stub, a raw RSP client, and gdb -batch.
import { execFile, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { encodePacket, RspDecoder } from '../../lib/hvt/gdb-rsp';
import { launch, type Guest } from '../../lib/tender/launch';

/** Launch KERNEL with the stub; resolves with the guest and where the stub listens, from the line it prints. */
export async function withStub(
  kernel: string,
  gdb: true | { port: number } = true,
  args?: string[],
): Promise<{ guest: Guest; where: string; output: () => string; line: (re: RegExp) => Promise<void> }> {
  let said: (where: string) => void = () => {};
  const where = new Promise<string>((resolve) => (said = resolve));
  const guest = await launch({
    kernel,
    target: 'hvt',
    memMB: 32,
    gdb,
    ...(args ? { args } : {}),
    onDebugMessage: (line) => {
      const m = /target remote (\S+)'/.exec(line);
      if (m) said(m[1]);
    },
  });
  let out = '';
  const watchers: { re: RegExp; resolve: () => void }[] = [];
  guest.console?.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of watchers.splice(0)) {
      if (w.re.test(out)) w.resolve();
      else watchers.push(w);
    }
  });
  /** Resolves once the guest's console holds a match for `re`. */
  const line = (re: RegExp): Promise<void> => (re.test(out) ? Promise.resolve() : new Promise((resolve) => watchers.push({ re, resolve })));
  return { guest, where: await where, output: () => out, line };
}

/** A minimal RSP client: one packet out, its reply in (acks skipped). */
export class Client {
  private readonly decoder = new RspDecoder();
  private readonly replies: string[] = [];
  private readonly raw: string[] = [];
  private wake: () => void = () => {};

  constructor(private readonly sock: net.Socket) {
    sock.on('data', (b: Buffer) => {
      for (const ev of this.decoder.push(b)) {
        if (ev.type === 'packet') this.replies.push(ev.data);
        else this.raw.push(ev.type);
      }
      this.wake();
    });
  }

  private async until<T>(get: () => T | undefined): Promise<T> {
    for (;;) {
      const v = get();
      if (v !== undefined) return v;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async ask(data: string): Promise<string> {
    this.sock.write(encodePacket(data));
    return this.next();
  }

  /** The next reply, whatever asked for it. */
  next(): Promise<string> {
    return this.until(() => this.replies.shift());
  }

  /** Replies received and not yet taken. */
  get unread(): readonly string[] {
    return this.replies;
  }

  /** Packets and raw bytes (gdb's ^C is \x03) in one write, as gdb may send them. */
  send(...parts: (string | { raw: string })[]): void {
    this.sock.write(Buffer.concat(parts.map((p) => (typeof p === 'string' ? encodePacket(p) : Buffer.from(p.raw, 'latin1')))));
  }

  /** Send raw bytes; resolves with the next ack or nack. */
  async sendRaw(bytes: string): Promise<string> {
    this.raw.length = 0;
    this.sock.write(bytes);
    return this.until(() => this.raw.shift());
  }
}

export const connect = (where: string): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const port = /^127\.0\.0\.1:([0-9]+)$/.exec(where);
    const s = port ? net.connect(Number(port[1]), '127.0.0.1') : net.connect(where);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });

/** gdb -batch running `commands` on KERNEL; resolves with all it printed. `started` gets the process. */
export function gdbBatch(kernel: string, commands: string[], extra: string[] = [], started?: (p: ChildProcess) => void): Promise<string> {
  return new Promise((resolve) => {
    const p = execFile(
      'gdb',
      ['-batch', '-nx', ...extra, ...commands.flatMap((c) => ['-ex', c]), kernel],
      { timeout: 120_000 },
      (_e, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
    started?.(p);
  });
}
