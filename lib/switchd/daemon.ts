// daemon.ts: startSwitchDaemon(): the solo5-switch learning switch on a UNIX stream socket, as a TypeScript API.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { HostError, UsageError } from '../errors';
import { silentLog, type TenderLog } from '../log';
import { switchdNative, type SwitchdEvent, type SwitchdStats } from './native';
import { quote } from '../quote';

export type { SwitchdEvent, SwitchdPortStats, SwitchdStats } from './native';

export const DEFAULT_SWITCHD_MTU = 1500;
/** The framing's length field allows 65535; the frame holds a 14-byte header. */
export const MAX_SWITCHD_MTU = 65535 - 14;
export const DEFAULT_AGING_SEC = 300;
/** addon/net/switchd.h's kSwitchdDefaultMaxPorts and kSwitchdMaxPortsLimit (the addon exports both; test/switchd.test.ts compares). */
export const DEFAULT_SWITCHD_MAX_PORTS = 1024;
export const SWITCHD_MAX_PORTS_LIMIT = 1 << 20;

export interface SwitchDaemonOptions {
  /** Where the socket is created. An existing socket nobody listens on is replaced; anything else is refused. */
  path: string;
  /** Permission bits of the socket file: who may connect. Default 0o600 (the owner), 0o660 with `group`. */
  mode?: number;
  /** Group of the socket file (name or gid); with mode 0o660 its members may connect too. */
  group?: string | number;
  /** Largest Ethernet payload; a peer that announces a longer frame is disconnected. Default 1500. */
  mtu?: number;
  /** Seconds after which a learned MAC address not seen again is forgotten (0: never). Default 300. */
  agingSec?: number;
  /**
   * Connections served at once (default 1024, addon/net/switchd.h). One more is
   * accepted, closed at once and logged in one line ("refused"); the peer sees
   * its connection end.
   */
  maxPorts?: number;
  /** Write every frame the switch receives to this pcap file (created owner-only, truncated). */
  pcap?: string;
  /** Where connections, disconnections and errors are logged. Default: nowhere. */
  log?: TenderLog;
}

export interface SwitchDaemonEvents {
  connected: [ev: SwitchdEvent];
  closed: [ev: SwitchdEvent];
  refused: [ev: SwitchdEvent];
  warning: [ev: SwitchdEvent];
}

/** Resolve a group name (or decimal gid) through /etc/group. */
export function resolveGroup(group: string | number, groupFile = '/etc/group'): number {
  if (typeof group === 'number' || /^[0-9]+$/.test(group)) {
    const gid = Number(group);
    if (!Number.isInteger(gid) || gid < 0 || gid > 0xfffffffe) throw new UsageError(`group: ${String(group)} is not a valid gid`);
    return gid;
  }
  let text = '';
  try {
    text = fs.readFileSync(groupFile, 'utf8');
  } catch (e) {
    throw new HostError(
      `${groupFile}: cannot read it to look up group '${quote(group)}' (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === group && f.length >= 3 && /^[0-9]+$/.test(f[2])) return Number(f[2]);
  }
  throw new UsageError(`group: no group '${quote(group)}' in ${groupFile}`);
}

function checkInt(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new UsageError(`${name}: ${String(v)} must be an integer from ${lo} to ${hi}`);
  return v;
}

/**
 * A running switch daemon. Every connection to `path` is one switch port;
 * frames are switched natively, on a thread of their own. The process stays
 * alive until close().
 */
export class SwitchDaemon extends EventEmitter<SwitchDaemonEvents> {
  readonly path: string;
  readonly mtu: number;
  private readonly id: number;
  private readonly pcapFd: number;
  private final: SwitchdStats | undefined;

  constructor(opts: SwitchDaemonOptions) {
    super();
    if (typeof opts.path !== 'string' || opts.path === '') throw new UsageError('path: a socket path is required');
    const mtu = checkInt('mtu', opts.mtu ?? DEFAULT_SWITCHD_MTU, 68, MAX_SWITCHD_MTU);
    const agingSec = checkInt('agingSec', opts.agingSec ?? DEFAULT_AGING_SEC, 0, 1 << 30);
    const maxPorts = checkInt('maxPorts', opts.maxPorts ?? DEFAULT_SWITCHD_MAX_PORTS, 1, SWITCHD_MAX_PORTS_LIMIT);
    const gid = opts.group === undefined ? -1 : resolveGroup(opts.group);
    const mode = checkInt('mode', opts.mode ?? (gid >= 0 ? 0o660 : 0o600), 0, 0o777);
    const log = opts.log ?? silentLog;
    this.path = opts.path;
    this.mtu = mtu;
    let pcapFd = -1;
    if (opts.pcap !== undefined) {
      try {
        pcapFd = fs.openSync(opts.pcap, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o600);
      } catch (e) {
        throw new HostError(`${opts.pcap}: cannot open the pcap file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    this.pcapFd = pcapFd;
    const onEvent = (ev: SwitchdEvent) => {
      const who = { port: ev.port || undefined, peerPid: ev.pid >= 0 ? ev.pid : undefined, peerUid: ev.port ? ev.uid : undefined };
      if (ev.type === 'connected') log.info(who, `port ${ev.port} connected (pid ${ev.pid}, uid ${ev.uid})`);
      else if (ev.type === 'closed') log.info(who, `port ${ev.port} closed: ${ev.message}`);
      else if (ev.type === 'refused') log.warn(who, `refused a connection (pid ${ev.pid}, uid ${ev.uid}): ${ev.message}`);
      else log.warn(who, ev.message);
      this.emit(ev.type, ev);
    };
    try {
      this.id = switchdNative().switchdStart({ path: opts.path, mode, gid, mtu, agingSec, maxPorts, pcapFd }, onEvent);
    } catch (e) {
      if (pcapFd >= 0) fs.closeSync(pcapFd);
      if (e instanceof UsageError || e instanceof HostError) throw e;
      throw new HostError((e as Error).message);
    }
  }

  /** Counters of every port (open ones, then closed ones) and of the switch. */
  stats(): SwitchdStats {
    return this.final ?? switchdNative().switchdStats(this.id);
  }

  /** Stop switching, disconnect every port, remove the socket file; returns the final counters. Idempotent. */
  close(): SwitchdStats {
    if (this.final) return this.final;
    const n = switchdNative();
    n.switchdStop(this.id);
    this.final = n.switchdStats(this.id);
    if (this.pcapFd >= 0) fs.closeSync(this.pcapFd);
    return this.final;
  }
}

/** Start a switch daemon listening on opts.path (see SwitchDaemonOptions). */
export function startSwitchDaemon(opts: SwitchDaemonOptions): SwitchDaemon {
  return new SwitchDaemon(opts);
}
