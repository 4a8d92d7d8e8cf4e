// cli.ts: the solo5-switch command: parse arguments, run the daemon until a signal, print counters; returns an exit code.
import { isSolo5Error, UsageError } from '../errors';
import { createLog, isLogLevel, type LogLevel } from '../log';
import {
  DEFAULT_AGING_SEC,
  DEFAULT_SWITCHD_MAX_PORTS,
  DEFAULT_SWITCHD_MTU,
  MAX_SWITCHD_MTU,
  SWITCHD_MAX_PORTS_LIMIT,
  startSwitchDaemon,
  type SwitchDaemonOptions,
} from './daemon';
import { formatStats } from './report';
import { oneLine, quote } from '../quote';

const USAGE = `usage: solo5-switch [OPTIONS] PATH

A learning Ethernet switch for unikernels, without root. It listens on the
UNIX stream socket PATH; every connection is one switch port, and carries
Ethernet frames each preceded by its length as a 4-byte big-endian integer
(the framing of passt --socket and QEMU -netdev stream). Connect a guest with
  solo5-spt --net:service=unix:PATH app.spt

Who can connect: whoever may write to PATH. It is created owner-only (0600),
so only this user (and root) can, unless --mode / --group widen it.

Options:
  --mode OCTAL          Permission bits of PATH (default 600; 660 with --group).
  --group NAME|GID      Group of PATH, so that its members can connect (with --mode 660).
  --mtu N               Largest payload, 68 to ${MAX_SWITCHD_MTU} (default ${DEFAULT_SWITCHD_MTU}). A peer that
                        sends a longer frame is disconnected (one log line).
  --aging S             Forget a learned MAC address unseen for S seconds (default ${DEFAULT_AGING_SEC}; 0: never).
  --max-ports N         Serve at most N connections at once (default ${DEFAULT_SWITCHD_MAX_PORTS}); one more is
                        closed at once, with one log line.
  --pcap FILE           Write every frame the switch receives to FILE (pcap, owner-only).
  --stats-interval S    Print the port counters every S seconds too.
  --json                Print counters as one JSON object per report instead of one line per port.
  --log-level LEVEL     trace, debug, info (default), warn, error, fatal or silent.
  --help                Show this text and exit.
  --version             Show the version and exit.

Counters (rx: from the peer, tx: to it, with drops) go to stdout on SIGUSR1,
every --stats-interval and at exit. SIGTERM or SIGINT: the switch disconnects
every port, removes PATH and exits 0. Exit status 1 on bad arguments or when
PATH cannot be used (one line on stderr).`;

export interface SwitchCliArgs {
  opts: SwitchDaemonOptions;
  statsIntervalSec?: number;
  json: boolean;
  logLevel: LogLevel;
}

function intArg(name: string, v: string, lo: number, hi: number, radix = 10): number {
  const ok = radix === 8 ? /^0?[0-7]{1,4}$/.test(v) : /^[0-9]+$/.test(v);
  const n = ok ? parseInt(v, radix) : NaN;
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw new UsageError(
      `${name}: '${quote(v)}' must be ${radix === 8 ? 'an octal mode' : 'an integer'} from ${radix === 8 ? '0' : lo} to ${radix === 8 ? '777' : hi}`,
    );
  }
  return n;
}

/** Parse the command line; 'help' / 'version' for those flags. Throws UsageError. */
export function parseSwitchArgs(argv: string[]): SwitchCliArgs | 'help' | 'version' {
  const opts: Partial<SwitchDaemonOptions> = {};
  let statsIntervalSec: number | undefined;
  let json = false;
  let logLevel: LogLevel = 'info';
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--version') return 'version';
    if (a === '--json') {
      json = true;
      continue;
    }
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    else throw new UsageError(`--${name}: needs a value (see solo5-switch --help)`);
    switch (name) {
      case 'mode':
        opts.mode = intArg('--mode', value, 0, 0o777, 8);
        break;
      case 'group':
        if (value === '') throw new UsageError('--group: needs a group name or gid');
        opts.group = value;
        break;
      case 'mtu':
        opts.mtu = intArg('--mtu', value, 68, MAX_SWITCHD_MTU);
        break;
      case 'aging':
        opts.agingSec = intArg('--aging', value, 0, 1 << 30);
        break;
      case 'max-ports':
        opts.maxPorts = intArg('--max-ports', value, 1, SWITCHD_MAX_PORTS_LIMIT);
        break;
      case 'pcap':
        if (value === '') throw new UsageError('--pcap: needs a file name');
        opts.pcap = value;
        break;
      case 'stats-interval':
        statsIntervalSec = intArg('--stats-interval', value, 1, 86400);
        break;
      case 'log-level':
        if (!isLogLevel(value))
          throw new UsageError(`--log-level: '${quote(value)}' is not one of trace, debug, info, warn, error, fatal, silent`);
        logLevel = value;
        break;
      default:
        throw new UsageError(`unknown option --${quote(name)} (see solo5-switch --help)`);
    }
  }
  if (positional.length !== 1) {
    throw new UsageError(`expected one socket PATH, got ${positional.length === 0 ? 'none' : positional.length} (see solo5-switch --help)`);
  }
  return { opts: { ...opts, path: positional[0] }, statsIntervalSec, json, logLevel };
}

/** Run solo5-switch; resolves with the exit status once a signal ended the daemon. */
export async function main(argv: string[]): Promise<number> {
  let args: SwitchCliArgs | 'help' | 'version';
  try {
    args = parseSwitchArgs(argv);
  } catch (e) {
    process.stderr.write(`solo5-switch: ${oneLine((e as Error).message)}\n`);
    return 1;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args === 'version') {
    const { version } = await import('../version.js');
    process.stdout.write(`solo5-switch ${version()}\n`);
    return 0;
  }
  const { opts, statsIntervalSec, json } = args;
  const log = createLog({ level: args.logLevel });
  let daemon;
  try {
    daemon = startSwitchDaemon({ ...opts, log });
  } catch (e) {
    if (!isSolo5Error(e)) throw e;
    process.stderr.write(`solo5-switch: ${oneLine(e.message)}\n`);
    return 1;
  }
  const d = daemon;
  log.info({ path: d.path, mtu: d.mtu }, `switching on ${d.path}`);
  const report = () => process.stdout.write(formatStats(d.stats(), json));
  const timer = statsIntervalSec ? setInterval(report, statsIntervalSec * 1000) : undefined;
  process.on('SIGUSR1', report);
  return new Promise<number>((resolve) => {
    const stop = () => {
      if (timer) clearInterval(timer);
      process.off('SIGUSR1', report);
      process.stdout.write(formatStats(d.close(), json));
      resolve(0);
    };
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, stop);
  });
}
