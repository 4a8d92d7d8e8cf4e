// gdb-rsp.ts: the gdb remote serial protocol's framing: packets, checksums, acks, escapes and hex, with hard size limits.

/** The largest packet accepted from gdb (and offered as PacketSize): anything longer is dropped whole. */
export const RSP_MAX_PACKET = 4096;

export type RspEvent =
  | { type: 'packet'; data: string }
  | { type: 'ack' }
  | { type: 'nack' }
  | { type: 'interrupt' }
  /** A packet with a bad checksum or too long: answered with '-', gdb sends it again. */
  | { type: 'bad'; reason: string };

const checksum = (s: Buffer): number => s.reduce((a, b) => (a + b) & 0xff, 0);

/**
 * Incremental decoder: feed it whatever the socket delivered, in any split,
 * and get whole events back. Bytes between packets other than acks and ^C are
 * ignored, as gdb's own stubs do.
 */
export class RspDecoder {
  private state: 'idle' | 'data' | 'cs1' | 'cs2' = 'idle';
  private body: number[] = [];
  private cs = '';
  private oversize = false;

  push(chunk: Buffer): RspEvent[] {
    const out: RspEvent[] = [];
    for (const c of chunk) {
      switch (this.state) {
        case 'idle':
          if (c === 0x24 /* $ */) {
            this.state = 'data';
            this.body = [];
            this.oversize = false;
          } else if (c === 0x2b /* + */) out.push({ type: 'ack' });
          else if (c === 0x2d /* - */) out.push({ type: 'nack' });
          else if (c === 0x03) out.push({ type: 'interrupt' });
          break;
        case 'data':
          if (c === 0x23 /* # */) {
            this.state = 'cs1';
            this.cs = '';
          } else if (this.body.length >= RSP_MAX_PACKET) this.oversize = true;
          else this.body.push(c);
          break;
        case 'cs1':
        case 'cs2':
          this.cs += String.fromCharCode(c);
          if (this.state === 'cs1') {
            this.state = 'cs2';
            break;
          }
          this.state = 'idle';
          out.push(this.finish());
          break;
      }
    }
    return out;
  }

  private finish(): RspEvent {
    const raw = Buffer.from(this.body);
    if (this.oversize) return { type: 'bad', reason: `packet longer than ${RSP_MAX_PACKET} bytes` };
    if (!/^[0-9a-fA-F]{2}$/.test(this.cs) || parseInt(this.cs, 16) !== checksum(raw))
      return { type: 'bad', reason: `bad checksum ${JSON.stringify(this.cs)}` };
    return { type: 'packet', data: unescape(raw).toString('latin1') };
  }
}

/** '}' escapes the next byte XOR 0x20 (binary data in packets). */
function unescape(b: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) out.push(b[i] === 0x7d && i + 1 < b.length ? b[++i] ^ 0x20 : b[i]);
  return Buffer.from(out);
}

/** One packet, `$data#cs`, with '$', '#', '}' and '*' escaped. */
export function encodePacket(data: string): Buffer {
  const out: number[] = [];
  for (const c of Buffer.from(data, 'latin1')) {
    if (c === 0x24 || c === 0x23 || c === 0x7d || c === 0x2a) out.push(0x7d, c ^ 0x20);
    else out.push(c);
  }
  const body = Buffer.from(out);
  return Buffer.concat([Buffer.from('$'), body, Buffer.from(`#${checksum(body).toString(16).padStart(2, '0')}`)]);
}

export const toHex = (b: Buffer): string => b.toString('hex');

/** Strict hex to bytes: an odd length or a non-hex digit is undefined. */
export function fromHex(s: string): Buffer | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  return Buffer.from(s, 'hex');
}

/** A hex number of at most 16 digits (a 64-bit value), or undefined. */
export function hexNumber(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F]{1,16}$/.test(s)) return undefined;
  return BigInt(`0x${s}`);
}

/** `addr,len` (m, and M before its ':'), or undefined when malformed. */
export function parseAddrLen(s: string): { addr: bigint; len: number } | undefined {
  const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(s);
  if (!m) return undefined;
  const addr = hexNumber(m[1]);
  const len = hexNumber(m[2]);
  if (addr === undefined || len === undefined || len > BigInt(RSP_MAX_PACKET)) return undefined;
  return { addr, len: Number(len) };
}
