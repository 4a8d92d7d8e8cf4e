// mac.ts: Ethernet MAC addresses: parse, format, generate.
import { UsageError } from '../errors';
import { native } from '../native';
import { quote } from '../quote';

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export function parseMac(s: string): Buffer {
  if (!MAC_RE.test(s)) throw new UsageError(`'${quote(s)}' is not a MAC address like 02:00:00:00:00:01`);
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

export function formatMac(b: Buffer): string {
  return [...b.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** A random locally administered unicast address (getrandom through the addon: node:crypto costs the CLI ~9 ms to load). */
export function randomMac(): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(native().getRandom64());
  b[0] = (b[0] & 0xfc) | 0x02;
  return b.subarray(0, 6);
}
