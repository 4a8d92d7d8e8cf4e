// passt-placeholders.ts: `{NAME.FIELD}` in the guest's arguments, replaced by what the tender knows of net device NAME.
import { UsageError } from '../errors';
import type { PasstInfo } from './passt-report';
import { quote } from '../quote';

/** What the tender tells about one net device of a guest (API: `guest.net.get(NAME)`). */
export interface NetInfo {
  /** The guest's MAC address, `xx:xx:xx:xx:xx:xx`. */
  mac: string;
  mtu: number;
  /** Present when the device is attached to passt: what passt offers the guest. */
  passt?: PasstInfo;
}

/**
 * The fields a placeholder may name. Every value is an IP literal, a number,
 * a MAC or a domain list checked by the report parser, so none can carry a
 * space or a brace into the guest's command line.
 */
const FIELDS: Record<string, (n: NetInfo) => string | undefined> = {
  mac: (n) => n.mac,
  mtu: (n) => String(n.mtu),
  ipv4: (n) => (n.passt?.ipv4 ? `${n.passt.ipv4.address}/${n.passt.ipv4.prefix}` : undefined),
  address: (n) => n.passt?.ipv4?.address,
  prefix: (n) => (n.passt?.ipv4 ? String(n.passt.ipv4.prefix) : undefined),
  netmask: (n) => n.passt?.ipv4?.netmask,
  gateway: (n) => n.passt?.ipv4?.gateway,
  dns: (n) => n.passt?.dns.find((a) => !a.includes(':')) ?? n.passt?.dns[0],
  ipv6: (n) => n.passt?.ipv6?.address,
  'ipv6-gateway': (n) => n.passt?.ipv6?.gateway,
};

export const PLACEHOLDER_FIELDS: readonly string[] = Object.keys(FIELDS);

/**
 * Replace `{NAME.FIELD}` where NAME is one of the guest's net devices.
 * Braces around anything else are left as they are; a known device with an
 * unknown field, or a field the device has no value for (an IPv4 address of
 * a tap, a gateway passt did not report), is refused naming the placeholder.
 */
export function expandPlaceholders(cmdline: string, nets: ReadonlyMap<string, NetInfo>): string {
  return cmdline.replace(/\{([A-Za-z0-9]{1,67})\.([a-z0-9-]+)\}/g, (whole, name: string, field: string) => {
    const n = nets.get(name);
    if (n === undefined) return whole;
    const get = Object.hasOwn(FIELDS, field) ? FIELDS[field] : undefined;
    if (get === undefined)
      throw new UsageError(`args: ${whole}: unknown field '${quote(field)}' (one of ${PLACEHOLDER_FIELDS.join(', ')})`);
    const v = get(n);
    if (v === undefined) {
      const why = n.passt ? 'passt did not report one' : `net device '${quote(name)}' is not attached to passt`;
      throw new UsageError(`args: ${whole}: no ${field} to put there (${why})`);
    }
    return v;
  });
}
