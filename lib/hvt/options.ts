// options.ts: the debug launch options (--dumpcore, --gdb), checked before anything is spawned.
import { UsageError } from '../errors';
import { checkCoreDir } from './core';
import { quote } from '../quote';

export interface DebugOptions {
  /** The directory a core goes to when the guest aborts. */
  dumpcore?: string;
  /** gdb wanted; port: loopback TCP instead of a private Unix socket (hvt). */
  gdb?: { port?: number };
  message: (line: string) => void;
}

const toStderr = (line: string): void => void process.stderr.write(`${line}\n`);

/** The debug options of the API, checked: the core directory must exist and be writable now, not at the abort. */
export function checkDebugOptions(o: { dumpcore?: unknown; gdb?: unknown; onDebugMessage?: unknown }): DebugOptions {
  const out: DebugOptions = { message: toStderr };
  if (o.onDebugMessage !== undefined) {
    if (typeof o.onDebugMessage !== 'function') throw new UsageError('onDebugMessage: must be a function');
    out.message = o.onDebugMessage as (line: string) => void;
  }
  if (o.dumpcore !== undefined) {
    if (typeof o.dumpcore !== 'string' || o.dumpcore === '') throw new UsageError('dumpcore: must be a directory');
    const bad = checkCoreDir(o.dumpcore);
    if (bad !== undefined) throw new UsageError(bad);
    out.dumpcore = o.dumpcore;
  }
  if (o.gdb === true) out.gdb = {};
  else if (o.gdb !== undefined && o.gdb !== false) {
    const port = typeof o.gdb === 'object' && o.gdb !== null ? (o.gdb as { port?: unknown }).port : undefined;
    if (
      typeof o.gdb !== 'object' ||
      o.gdb === null ||
      (port !== undefined && !(Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536))
    ) {
      throw new UsageError('gdb: must be true or { port } with a TCP port from 1 to 65535');
    }
    out.gdb = port === undefined ? {} : { port: port as number };
  }
  return out;
}

/** The debug options of the tender's command line, gathered as they come. */
export interface DebugArgs {
  dumpcore?: string;
  gdb?: boolean | { port?: number };
}

export const debugUsage = (target: 'spt' | 'hvt'): string[] => [
  'Debug options (docs/debugging.md):',
  '  --dumpcore=DIR           when the guest aborts, write an ELF core DIR/core.solo5-' + target + '.PID',
  ...(target === 'hvt'
    ? [
        '  --gdb                    gdb remote stub on a private Unix socket (printed); the guest waits',
        '                           at its entry for gdb',
        '  --gdb-port=N             the stub on 127.0.0.1:N instead (every local user can connect)',
      ]
    : ['  --gdb                    stop the guest before its first instruction for gdb to attach by pid']),
];

/**
 * `--dumpcore=DIR`, `--gdb`, `--gdb-port=N`: true when `key` was one of them
 * (its value checked and kept in `acc`), false when it is some other option.
 */
export function parseDebugArg(key: string, value: string | undefined, target: 'spt' | 'hvt', acc: DebugArgs): boolean {
  switch (key) {
    case 'dumpcore':
      if (value === undefined || value === '') throw new UsageError('--dumpcore: a directory is required (--dumpcore=DIR)');
      acc.dumpcore = value;
      return true;
    case 'gdb':
      if (value !== undefined) throw new UsageError('--gdb takes no value (--gdb-port=N for loopback TCP)');
      acc.gdb = typeof acc.gdb === 'object' ? acc.gdb : true;
      return true;
    case 'gdb-port':
      if (target !== 'hvt') throw new UsageError('--gdb-port: hvt only (on spt gdb attaches to the guest by pid: --gdb)');
      if (value === undefined || !/^[0-9]{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535)
        throw new UsageError(`--gdb-port: '${quote(value ?? '')}' is not a TCP port from 1 to 65535`);
      acc.gdb = { port: Number(value) };
      return true;
    default:
      return false;
  }
}
