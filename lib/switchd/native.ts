// native.ts: the solo5-switch daemon's part of the addon, typed and checked at the one place it is reached.
import { HostError } from '../errors';
import { native } from '../native';

/** One port of the daemon (one connection); rx is what its peer sent, tx what the switch sent it. */
export interface SwitchdPortStats {
  port: number;
  /** The connecting process, from SO_PEERCRED at accept time (-1: unknown). */
  pid: number;
  uid: number;
  gid: number;
  open: boolean;
  rxPackets: number;
  rxBytes: number;
  /** Frames from this peer that no other port took (no port, queues full, addressed back to the sender). */
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  /** Frames for this peer dropped: its queue was full (or its share of it), or the link had closed. */
  txDropped: number;
  /** Why the port closed (present once it has). */
  closed?: string;
}

export interface SwitchdStats {
  ports: SwitchdPortStats[];
  switch: { forwarded: number; flooded: number; droppedMtu: number; droppedFiltered: number; aged: number; macs: number };
}

export interface SwitchdEvent {
  type: 'connected' | 'closed' | 'refused' | 'warning';
  port: number;
  pid: number;
  uid: number;
  message: string;
}

export interface SwitchdNative {
  /** Bind and listen at opts.path, start the loop thread; throws a one-line Error (path and errno) on failure. */
  switchdStart(
    opts: { path: string; mode: number; gid: number; mtu: number; agingSec: number; maxPorts: number; pcapFd: number },
    onEvent: (ev: SwitchdEvent) => void,
  ): number;
  /** Stop the loop, close every port, remove the socket file if it is still the daemon's. Idempotent. */
  switchdStop(id: number): void;
  switchdStats(id: number): SwitchdStats;
  /** Connections served at once by default (addon/net/switchd.h). */
  SWITCHD_DEFAULT_MAX_PORTS: number;
  /** The most maxPorts may be. */
  SWITCHD_MAX_PORTS_LIMIT: number;
}

function isSwitchdNative(m: unknown): m is SwitchdNative {
  return typeof m === 'object' && m !== null && typeof (m as { switchdStart?: unknown }).switchdStart === 'function';
}

export function switchdNative(): SwitchdNative {
  const m: unknown = native();
  if (!isSwitchdNative(m)) throw new HostError('the native addon has no switch daemon (an old build?); rebuild it with "npm run build"');
  return m;
}
