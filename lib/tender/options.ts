// options.ts: the launch options of the TypeScript API, checked at the edge.
import type { VirtualSwitch } from '../devices/switch';
import { UsageError } from '../errors';
import type { PasstAttach } from '../net/passt-args';
import { KVM_DEVICE } from './hvt';
import { checkDebugOptions, type DebugOptions } from '../hvt/options';
import { guestIds, type GuestIds } from './user';
import type { Target } from '../abi';
import { quote } from '../quote';

export type { Target };

/** A block device backed by a raw image file. */
export interface BlockAttach {
  path: string;
  /** Bytes per block: a power of two, at least 512. Default 512. */
  sectorSize?: number;
}

/** A network device: exactly one of `iface` (a tap), `switch` (the tender's userspace switch), `unix` (a stream socket) or `passt`. */
export interface NetAttach {
  /** An existing tap interface name, or `@N` for an already-open tap file descriptor N. */
  iface?: string;
  /** A VirtualSwitch of this tender; no root, tap or kernel networking involved. */
  switch?: VirtualSwitch;
  /**
   * The path of a listening AF_UNIX stream socket that frames Ethernet with a 4-byte big-endian
   * length (passt --socket, QEMU -netdev stream, solo5-switch). The tender connects at launch; the
   * device's MTU is 1500. If the peer goes away or sends garbage, that device stops with one log line.
   */
  unix?: string;
  /**
   * Start passt (user-mode networking, no root) for this device: `true`, or
   * `{ forwards }` to forward host ports into the guest. What passt offers
   * the guest is in `guest.net.get(NAME).passt`, and `{NAME.ipv4}`-style
   * placeholders in `args` are replaced by it (docs/networking.md).
   */
  passt?: true | PasstAttach;
  /** "xx:xx:xx:xx:xx:xx"; a random locally administered address when absent. */
  mac?: string;
  /** Write every frame in and out of this device to this pcap file. */
  pcap?: string;
}

export interface LaunchOptions {
  /** Path of the unikernel ELF. */
  kernel: string;
  /** Guest command-line arguments, joined by single spaces. */
  args?: string[];
  /** Guest memory in MiB (default 512). */
  memMB?: number;
  /** Execution target (default 'spt'). */
  target?: Target;
  /**
   * Where the guest console goes: 'pipe' (default; read `guest.console`),
   * 'inherit' (the tender's stdout, untouched) or an open file descriptor.
   */
  console?: 'pipe' | 'inherit' | number;
  /** Devices by manifest name; own properties only (a name like `constructor` is just a name). */
  block?: Record<string, BlockAttach> | ReadonlyMap<string, BlockAttach>;
  net?: Record<string, NetAttach> | ReadonlyMap<string, NetAttach>;
  /**
   * When the tender runs as root, the guest process drops to this user before
   * it runs: a name from /etc/passwd, `UID` or `UID:GID` (default 'nobody'),
   * with no supplementary groups and no capabilities. Refused when not root.
   */
  user?: string;
  /**
   * hvt: the KVM device to open (default /dev/kvm). Meant for tests that
   * need a missing or unusable device; no environment variable changes it.
   */
  kvmDevice?: string;
  /**
   * 'none' (default): leave CPU affinity alone. 'auto': a ring-ABI spt guest whose devices are all network devices on a tap or a stream socket (unix, passt) runs on one CPU
   * together with the tender's thread that serves it, chosen among the CPUs both may already use
   * (a taskset or cgroup limit is only narrowed, never widened), and neither spins while the other
   * needs that CPU: better on a loaded host, worse on a quiet one (docs/decisions.md, "Where the time goes").
   */
  affinity?: 'auto' | 'none';
  /** Write an ELF core of the guest into this directory when it aborts (status 255): docs/debugging.md. */
  dumpcore?: string;
  /**
   * Debug the guest with gdb (docs/debugging.md). hvt: a gdb remote stub on a Unix socket in a private
   * directory, or on 127.0.0.1:`port` (reachable by every local user); the guest waits at its entry
   * until gdb attaches. spt: the guest stops before its first instruction for gdb to attach by pid.
   */
  gdb?: boolean | { port?: number };
  /** Where the debug features' messages go (how to attach gdb, the core written); default: stderr. */
  onDebugMessage?: (line: string) => void;
  /**
   * hvt, a guest of upstream Solo5's ABI with a net device: offer it upstream's 0.11+ shared net ring,
   * served by the tender's pump thread (default true). false: its net I/O takes the NET_WRITE/NET_READ
   * hypercalls, as guests before 0.11 always do (docs/hvt.md, "The net ring").
   */
  netRing?: boolean;
}

export const DEFAULT_MEM_MB = 512;
/** Above this the memfd and the mapping still work, but it is certainly a typo. */
export const MAX_MEM_MB = 64 * 1024;

export interface CheckedOptions {
  kernel: string;
  cmdline: string;
  memSize: number;
  target: Target;
  console: 'pipe' | 'inherit' | number;
  block: Map<string, BlockAttach>;
  net: Map<string, NetAttach>;
  /** The ids the guest drops to, when the tender runs as root. */
  ids?: GuestIds;
  kvmDevice: string;
  affinity: 'auto' | 'none';
  debug: DebugOptions;
  netRing: boolean;
}

/** Own entries of a user-given record, or a Map's; never inherited properties. */
function deviceMap<T>(what: string, v: Record<string, T> | ReadonlyMap<string, T> | undefined): Map<string, T> {
  if (v === undefined) return new Map<string, T>();
  if (v instanceof Map) return new Map<string, T>(v);
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new UsageError(`${what}: must be an object or a Map of devices by name`);
  return new Map<string, T>(Object.entries(v));
}

/** Validate API options (they may come from JavaScript callers with no types). */
export function checkOptions(o: LaunchOptions): CheckedOptions {
  if (typeof o !== 'object' || o === null) throw new UsageError('launch options must be an object');
  if (typeof o.kernel !== 'string' || o.kernel === '') throw new UsageError('kernel: a path to a unikernel is required');
  const args = o.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new UsageError('args: must be an array of strings');
  }
  const memMB = o.memMB ?? DEFAULT_MEM_MB;
  if (!Number.isInteger(memMB) || memMB < 2 || memMB > MAX_MEM_MB) {
    throw new UsageError(`mem: ${String(memMB)} MiB is out of range (2 to ${MAX_MEM_MB})`);
  }
  const target = o.target ?? 'spt';
  if (target !== 'spt' && target !== 'hvt') throw new UsageError(`target: unknown target '${quote(target)}' (spt or hvt)`);
  const consoleOpt = o.console ?? 'pipe';
  if (!(consoleOpt === 'pipe' || consoleOpt === 'inherit' || (Number.isInteger(consoleOpt) && consoleOpt >= 0))) {
    throw new UsageError("console: must be 'pipe', 'inherit' or a file descriptor");
  }
  if (o.user !== undefined && (typeof o.user !== 'string' || o.user === ''))
    throw new UsageError('user: must be a user name, UID or UID:GID');
  const kvmDevice = o.kvmDevice ?? KVM_DEVICE;
  if (typeof kvmDevice !== 'string' || kvmDevice === '') throw new UsageError('kvmDevice: must be a path');
  const affinity = o.affinity ?? 'none';
  if (affinity !== 'auto' && affinity !== 'none') throw new UsageError(`affinity: must be 'auto' or 'none', not '${quote(affinity)}'`);
  const netRing = o.netRing ?? true;
  if (typeof netRing !== 'boolean') throw new UsageError('netRing: must be true or false');
  return {
    kernel: o.kernel,
    cmdline: args.join(' '),
    memSize: memMB * 1024 * 1024,
    target,
    console: consoleOpt,
    block: deviceMap('block', o.block),
    net: deviceMap('net', o.net),
    ids: guestIds(o.user, process.geteuid?.() ?? -1),
    kvmDevice,
    affinity,
    debug: checkDebugOptions(o),
    netRing,
  };
}
