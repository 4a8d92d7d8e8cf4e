// packets.ts: build and parse the few frames a TypeScript endpoint needs (ARP, IPv4 ICMP echo).
import { quote } from '../quote';

export const ETH_P_IPV4 = 0x0800;
export const ETH_P_ARP = 0x0806;
export const BROADCAST = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export function parseIpv4(s: string): Buffer {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || !parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)) {
    throw new Error(`'${quote(s)}' is not an IPv4 address`);
  }
  return Buffer.from(parts);
}

export function formatIpv4(b: Buffer): string {
  return [...b.subarray(0, 4)].join('.');
}

/** The Internet checksum (RFC 1071) of a buffer. */
export function inetChecksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length & 1) sum += b[b.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ethernet(dst: Buffer, src: Buffer, type: number, payload: Buffer): Buffer {
  const f = Buffer.alloc(14 + payload.length);
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(type, 12);
  payload.copy(f, 14);
  return f;
}

export function arpRequest(srcMac: Buffer, srcIp: Buffer, targetIp: Buffer): Buffer {
  const a = Buffer.alloc(28);
  a.writeUInt16BE(1, 0); // Ethernet
  a.writeUInt16BE(ETH_P_IPV4, 2);
  a[4] = 6;
  a[5] = 4;
  a.writeUInt16BE(1, 6); // request
  srcMac.copy(a, 8);
  srcIp.copy(a, 14);
  targetIp.copy(a, 24);
  return ethernet(BROADCAST, srcMac, ETH_P_ARP, a);
}

export interface ArpPacket {
  op: number;
  senderMac: Buffer;
  senderIp: Buffer;
  targetMac: Buffer;
  targetIp: Buffer;
}

export function parseArp(frame: Buffer): ArpPacket | undefined {
  if (frame.length < 42 || frame.readUInt16BE(12) !== ETH_P_ARP) return undefined;
  return {
    op: frame.readUInt16BE(20),
    senderMac: frame.subarray(22, 28),
    senderIp: frame.subarray(28, 32),
    targetMac: frame.subarray(32, 38),
    targetIp: frame.subarray(38, 42),
  };
}

export interface EchoOptions {
  srcMac: Buffer;
  dstMac: Buffer;
  srcIp: Buffer;
  dstIp: Buffer;
  id: number;
  seq: number;
  payload?: Buffer;
  /** 8 = echo request, 0 = echo reply. */
  type?: number;
}

export function icmpEcho(o: EchoOptions): Buffer {
  const payload = o.payload ?? Buffer.alloc(56, 0x61);
  const icmp = Buffer.alloc(8 + payload.length);
  icmp[0] = o.type ?? 8;
  icmp.writeUInt16BE(o.id & 0xffff, 4);
  icmp.writeUInt16BE(o.seq & 0xffff, 6);
  payload.copy(icmp, 8);
  icmp.writeUInt16BE(inetChecksum(icmp), 2);
  const ip = Buffer.alloc(20 + icmp.length);
  ip[0] = 0x45;
  ip.writeUInt16BE(ip.length, 2);
  ip[8] = 64; // TTL
  ip[9] = 1; // ICMP
  o.srcIp.copy(ip, 12);
  o.dstIp.copy(ip, 16);
  ip.writeUInt16BE(inetChecksum(ip.subarray(0, 20)), 10);
  icmp.copy(ip, 20);
  return ethernet(o.dstMac, o.srcMac, ETH_P_IPV4, ip);
}

export interface IcmpEchoPacket {
  type: number;
  id: number;
  seq: number;
  srcIp: Buffer;
  dstIp: Buffer;
  payload: Buffer;
  /** True when both the IPv4 header and ICMP checksums verify. */
  checksumOk: boolean;
}

export function parseIcmpEcho(frame: Buffer): IcmpEchoPacket | undefined {
  if (frame.length < 14 + 20 + 8 || frame.readUInt16BE(12) !== ETH_P_IPV4) return undefined;
  const ip = frame.subarray(14);
  const ihl = (ip[0] & 0x0f) * 4;
  if (ip[0] >> 4 !== 4 || ihl < 20 || ip[9] !== 1) return undefined;
  const total = ip.readUInt16BE(2);
  if (total > ip.length || total < ihl + 8) return undefined;
  const icmp = ip.subarray(ihl, total);
  if (icmp[0] !== 0 && icmp[0] !== 8) return undefined;
  return {
    type: icmp[0],
    id: icmp.readUInt16BE(4),
    seq: icmp.readUInt16BE(6),
    srcIp: ip.subarray(12, 16),
    dstIp: ip.subarray(16, 20),
    payload: icmp.subarray(8),
    checksumOk: inetChecksum(ip.subarray(0, ihl)) === 0 && inetChecksum(icmp) === 0,
  };
}
