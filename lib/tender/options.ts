// options.ts: the launch options of the TypeScript API, checked at the edge.
import type { VirtualSwitch } from '../devices/switch';
import { UsageError } from '../errors';

export type Target = 'spt' | 'hvt';

/** A block device backed by a raw image file. */
export interface BlockAttach {
  path: string;
  /** Bytes per block: a power of two, at least 512. Default 512. */
  sectorSize?: number;
}

/** A network device: exactly one of `iface` (a tap) or `switch` (the tender's userspace switch). */
export interface NetAttach {
  /** An existing tap interface name, or `@N` for an already-open tap file descriptor N. */
  iface?: string;
  /** A VirtualSwitch of this tender; no root, tap or kernel networking involved. */
  switch?: VirtualSwitch;
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
  block?: Record<string, BlockAttach>;
  net?: Record<string, NetAttach>;
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
  block: Record<string, BlockAttach>;
  net: Record<string, NetAttach>;
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
  if (target !== 'spt' && target !== 'hvt') throw new UsageError(`target: unknown target '${String(target)}' (spt or hvt)`);
  const consoleOpt = o.console ?? 'pipe';
  if (!(consoleOpt === 'pipe' || consoleOpt === 'inherit' || (Number.isInteger(consoleOpt) && consoleOpt >= 0))) {
    throw new UsageError("console: must be 'pipe', 'inherit' or a file descriptor");
  }
  return {
    kernel: o.kernel,
    cmdline: args.join(' '),
    memSize: memMB * 1024 * 1024,
    target,
    console: consoleOpt,
    block: { ...(o.block ?? {}) },
    net: { ...(o.net ?? {}) },
  };
}
