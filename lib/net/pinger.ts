// pinger.ts: ARP resolution and ICMP echo from a TypeScript switch endpoint (tests, benchmarks, users' own checks).
import { arpRequest, icmpEcho, parseArp, parseIcmpEcho, parseIpv4 } from './packets';

export interface PingResult {
  sent: number;
  received: number;
  /** Replies whose checksum or payload did not match. */
  corrupt: number;
  /** Round-trip times in microseconds, one per reply, in order of arrival. */
  rttsUs: number[];
}

/** What the pinger needs of a port: a switch endpoint, or anything else that sends and emits frames. */
export interface FramePort {
  readonly mac: Buffer;
  send(frame: Buffer): unknown;
  on(event: 'frame', listener: (frame: Buffer) => void): unknown;
  off(event: 'frame', listener: (frame: Buffer) => void): unknown;
}

/** Speaks ARP and ICMP echo for `ip` on a switch endpoint (or another FramePort). */
export class Pinger {
  private readonly ip: Buffer;

  constructor(
    private readonly ep: FramePort,
    ip: string,
  ) {
    this.ip = parseIpv4(ip);
  }

  /** Resolve `target` to a MAC address by ARP (retrying every 100 ms). */
  resolve(target: string, timeoutMs = 60_000): Promise<Buffer> {
    const tip = parseIpv4(target);
    return new Promise((resolve, reject) => {
      const onFrame = (f: Buffer) => {
        const a = parseArp(f);
        if (a && a.op === 2 && a.senderIp.equals(tip)) {
          done();
          resolve(Buffer.from(a.senderMac));
        }
      };
      const send = () => this.ep.send(arpRequest(this.ep.mac, this.ip, tip));
      const timer = setInterval(send, 100);
      const giveUp = setTimeout(() => {
        done();
        reject(new Error(`no ARP reply from ${target} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearInterval(timer);
        clearTimeout(giveUp);
        this.ep.off('frame', onFrame);
      };
      this.ep.on('frame', onFrame);
      send();
    });
  }

  /**
   * Send `count` echo requests to `target` (MAC `mac`), keeping at most `window`
   * outstanding; resolves when all are answered or nothing arrived for `idleMs`
   * (default 60 s: a hang guard, long enough that a loaded machine's delays
   * are never mistaken for losses; pass less to measure a lossy link).
   */
  ping(target: string, mac: Buffer, count: number, opts: { window?: number; idleMs?: number; payload?: number } = {}): Promise<PingResult> {
    const tip = parseIpv4(target);
    const window = opts.window ?? 1;
    const idleMs = opts.idleMs ?? 60_000;
    const payloadLen = opts.payload ?? 56;
    const id = (process.pid ^ count) & 0xffff;
    const sentAt = new Map<number, bigint>();
    const result: PingResult = { sent: 0, received: 0, corrupt: 0, rttsUs: [] };
    const payloadFor = (seq: number) => {
      const b = Buffer.alloc(payloadLen);
      for (let i = 0; i < payloadLen; i++) b[i] = (seq + i) & 0xff;
      return b;
    };
    return new Promise((resolve) => {
      let idle: NodeJS.Timeout;
      const finish = () => {
        clearTimeout(idle);
        this.ep.off('frame', onFrame);
        resolve(result);
      };
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(finish, idleMs);
      };
      const sendNext = () => {
        while (result.sent < count && result.sent - result.received < window) {
          const seq = result.sent + 1;
          sentAt.set(seq & 0xffff, process.hrtime.bigint());
          this.ep.send(icmpEcho({ srcMac: this.ep.mac, dstMac: mac, srcIp: this.ip, dstIp: tip, id, seq, payload: payloadFor(seq) }));
          result.sent++;
        }
      };
      const onFrame = (f: Buffer) => {
        const e = parseIcmpEcho(f);
        if (!e || e.type !== 0 || e.id !== id || !e.srcIp.equals(tip)) return;
        const t0 = sentAt.get(e.seq);
        if (t0 === undefined) return;
        sentAt.delete(e.seq);
        result.received++;
        if (!e.checksumOk || !e.payload.equals(payloadFor(e.seq))) result.corrupt++;
        result.rttsUs.push(Number(process.hrtime.bigint() - t0) / 1000);
        if (result.received === count) return finish();
        arm();
        sendNext();
      };
      this.ep.on('frame', onFrame);
      arm();
      sendNext();
    });
  }
}
