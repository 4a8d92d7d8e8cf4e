// passt-report.ts: read what passt will offer the guest (address, gateway, DNS) from the set-up lines it logs.
import net from 'node:net';

/** What passt gives the guest by DHCP (and NDP/DHCPv6), as it reported it when it started. */
export interface PasstInfo {
  /** passt's process id. */
  pid: number;
  /** The host interface passt took its addresses and routes from. */
  template?: string;
  ipv4?: { address: string; prefix: number; netmask: string; gateway?: string };
  ipv6?: { address?: string; gateway?: string };
  /** Resolvers offered to the guest, IPv4 and IPv6, in passt's order. */
  dns: string[];
  /** The DNS search list offered to the guest. */
  dnsSearch: string[];
}

/** The log prefix passt puts before a message in its log file: `SECONDS: LEVEL:`. */
const LOG_PREFIX = /^[0-9]+\.[0-9]+: [A-Za-z]+:/;
const DOMAIN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/;

/** Prefix length of a dotted-quad netmask, or undefined when it is not one (ones then zeros). */
export function maskPrefix(mask: string): number | undefined {
  if (net.isIPv4(mask) === false) return undefined;
  const bits = mask
    .split('.')
    .map((o) => Number(o).toString(2).padStart(8, '0'))
    .join('');
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') < 0 ? 32 : bits.indexOf('0')) : undefined;
}

/**
 * Parse passt's set-up report from its log (untrusted text from another
 * process: only well-formed IP literals and domain names are kept, since
 * they may end up on the guest's command line). The report is a list of
 * sections (`DHCP:`, `DNS:`, `DNS search list:`, `NDP/DHCPv6:`) whose
 * items follow, one per line. Returns undefined when no IPv4 or IPv6
 * address was reported.
 */
export function parsePasstReport(text: string, pid: number): PasstInfo | undefined {
  const info: PasstInfo = { pid, dns: [], dnsSearch: [] };
  const v4: { address?: string; mask?: string; gateway?: string } = {};
  const v6: { address?: string; gateway?: string } = {};
  let section = '';
  let sectionIndent = 0;
  for (const raw of text.split('\n')) {
    const unprefixed = raw.replace(LOG_PREFIX, '');
    const line = unprefixed.trim();
    if (line === '') continue;
    // A section's items are indented deeper than its heading; anything else ends it.
    const indent = unprefixed.length - unprefixed.trimStart().length;
    if (indent <= sectionIndent) section = '';
    const tpl = /^Template interface: ([^ ]+)/.exec(line);
    if (tpl) {
      if (/^[A-Za-z0-9_.@-]{1,15}$/.test(tpl[1])) info.template ??= tpl[1];
      continue;
    }
    if (/^[A-Za-z0-9/ ]+:$/.test(line)) {
      section = line.slice(0, -1);
      sectionIndent = indent;
      continue;
    }
    const kv = /^([a-z -]+): ([^ ]+)$/.exec(line);
    if (section === 'DHCP' && kv) {
      if (kv[1] === 'assign' && net.isIPv4(kv[2])) v4.address = kv[2];
      else if (kv[1] === 'mask' && net.isIPv4(kv[2])) v4.mask = kv[2];
      else if (kv[1] === 'router' && net.isIPv4(kv[2])) v4.gateway = kv[2];
    } else if (section === 'NDP/DHCPv6' && kv) {
      if (kv[1] === 'assign' && net.isIPv6(kv[2])) v6.address = kv[2];
      else if (kv[1] === 'router' && net.isIPv6(kv[2])) v6.gateway = kv[2];
    } else if (section === 'DNS' && net.isIP(line) !== 0) {
      if (!info.dns.includes(line)) info.dns.push(line);
    } else if (section === 'DNS search list' && DOMAIN.test(line) && line.length <= 253) {
      if (!info.dnsSearch.includes(line)) info.dnsSearch.push(line);
    }
  }
  if (v4.address !== undefined) {
    const prefix = v4.mask !== undefined ? maskPrefix(v4.mask) : undefined;
    if (prefix !== undefined)
      info.ipv4 = { address: v4.address, prefix, netmask: v4.mask!, ...(v4.gateway ? { gateway: v4.gateway } : {}) };
  }
  if (v6.address !== undefined || v6.gateway !== undefined) info.ipv6 = { ...v6 };
  return info.ipv4 || info.ipv6 ? info : undefined;
}

/** `10.0.0.2/24 via 10.0.0.1, DNS 10.0.0.3`: the report in one phrase, for the log line. */
export function describePasstInfo(info: PasstInfo): string {
  const parts: string[] = [];
  if (info.ipv4) parts.push(`${info.ipv4.address}/${info.ipv4.prefix}${info.ipv4.gateway ? ` via ${info.ipv4.gateway}` : ''}`);
  if (info.ipv6?.address) parts.push(`${info.ipv6.address}${info.ipv6.gateway ? ` via ${info.ipv6.gateway}` : ''}`);
  const dns = info.dns.length ? `DNS ${info.dns.join(' ')}` : 'no DNS';
  return `${parts.join(' and ')}, ${dns}`;
}
