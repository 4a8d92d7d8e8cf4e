// passt-args.ts: port forwards of a passt device (checked from the CLI or the API) and passt's command line.
import net from 'node:net';
import { UsageError } from '../errors';
import { quote } from '../quote';

/** One port forward: connections or datagrams to HOSTADDR:HOSTPORT on the host reach the guest's GUESTPORT. */
export interface PasstForward {
  proto: 'tcp' | 'udp';
  /** Bind the host side to this IPv4 or IPv6 literal only (default: every address). */
  hostAddress?: string;
  hostPort: number;
  guestPort: number;
}

/** `NetAttach.passt`: `true` for outbound connectivity only, or forwards into the guest. */
export interface PasstAttach {
  forwards?: PasstForward[];
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

/** Validate API-given forwards (JavaScript callers have no types); `what` names the option in messages. */
export function checkForwards(what: string, v: unknown): PasstForward[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new UsageError(`${what}: must be an array of { proto, hostAddress?, hostPort, guestPort }`);
  return v.map((f: unknown, i) => {
    const at = `${what}[${i}]`;
    if (typeof f !== 'object' || f === null) throw new UsageError(`${at}: must be an object`);
    const { proto, hostAddress, hostPort, guestPort } = f as Record<string, unknown>;
    if (proto !== 'tcp' && proto !== 'udp') throw new UsageError(`${at}.proto: must be 'tcp' or 'udp'`);
    if (hostAddress !== undefined && (typeof hostAddress !== 'string' || net.isIP(hostAddress) === 0)) {
      const shown = typeof hostAddress === 'string' ? hostAddress : String(JSON.stringify(hostAddress));
      throw new UsageError(`${at}.hostAddress: '${quote(shown)}' is not an IPv4 or IPv6 address`);
    }
    if (!isPort(hostPort)) throw new UsageError(`${at}.hostPort: ${String(hostPort)} is not a port (1 to 65535)`);
    if (!isPort(guestPort)) throw new UsageError(`${at}.guestPort: ${String(guestPort)} is not a port (1 to 65535)`);
    return hostAddress === undefined ? { proto, hostPort, guestPort } : { proto, hostAddress, hostPort, guestPort };
  });
}

/** `NetAttach.passt` checked: `true` or an object with optional forwards. */
export function checkPasstAttach(what: string, v: unknown): { forwards: PasstForward[] } {
  if (v === true) return { forwards: [] };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`${what}: must be true or { forwards: [...] }`);
  const extra = Object.keys(v).filter((k) => k !== 'forwards');
  if (extra.length) throw new UsageError(`${what}: unknown field ${extra[0]}`);
  return { forwards: checkForwards(`${what}.forwards`, (v as PasstAttach).forwards) };
}

/**
 * `tcp|udp:[HOSTADDR:]HOSTPORT:GUESTPORT`, the value of `--net-forward:NAME=`.
 * An IPv6 HOSTADDR may be written bare (`udp:::1:5353:53`) or in brackets
 * (`udp:[::1]:5353:53`): the last two fields are always the ports.
 */
export function parseForwardSpec(option: string, spec: string): PasstForward {
  const bad = (why: string) => new UsageError(`${option}: '${quote(spec)}' ${why} (tcp|udp:[HOSTADDR:]HOSTPORT:GUESTPORT)`);
  const m = /^(tcp|udp):(.*)$/.exec(spec);
  if (!m) throw bad('does not start with tcp: or udp:');
  const fields = m[2].split(':');
  if (fields.length < 2) throw bad('needs a host port and a guest port');
  const guest = fields.pop()!;
  const host = fields.pop()!;
  let address: string | undefined = fields.length ? fields.join(':') : undefined;
  if (address !== undefined && address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const port = (s: string, which: string) => {
    if (!/^[0-9]{1,5}$/.test(s) || !isPort(Number(s))) throw bad(`has ${which} port '${quote(s)}', not 1 to 65535`);
    return Number(s);
  };
  const hostPort = port(host, 'host');
  const guestPort = port(guest, 'guest');
  if (address !== undefined && net.isIP(address) === 0) throw bad(`has host address '${quote(address)}', not an IPv4 or IPv6 literal`);
  const proto = m[1] as 'tcp' | 'udp';
  return address === undefined ? { proto, hostPort, guestPort } : { proto, hostAddress: address, hostPort, guestPort };
}

export interface PasstCommand {
  /** The fd number passt finds the socket on (its --fd). */
  fd: number;
  mtu: number;
  forwards: readonly PasstForward[];
  logFile: string;
  pidFile: string;
  /** Root only: the ids passt drops to (the guest's), instead of its default `nobody`. */
  runas?: { uid: number; gid: number };
}

/**
 * passt's arguments. It stays in the foreground (-f: its pid is ours to
 * watch) and logs to a file (no syslog; the report is read from it once the
 * pid file says set-up is done). Without -u, passt would forward UDP on
 * every forwarded TCP port too: `none` keeps to exactly what was asked.
 */
export function passtArgv(c: PasstCommand): string[] {
  const args = ['-f', '--fd', String(c.fd), '-l', c.logFile, '-P', c.pidFile, '-m', String(c.mtu)];
  if (c.runas) args.push('--runas', `${c.runas.uid}:${c.runas.gid}`);
  for (const proto of ['tcp', 'udp'] as const) {
    const mine = c.forwards.filter((f) => f.proto === proto);
    const flag = proto === 'tcp' ? '-t' : '-u';
    if (mine.length === 0) args.push(flag, 'none');
    for (const f of mine) args.push(flag, `${f.hostAddress !== undefined ? `${f.hostAddress}/` : ''}${f.hostPort}:${f.guestPort}`);
  }
  return args;
}
