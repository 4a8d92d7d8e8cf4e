// options.ts: the debug launch options (--dumpcore, --gdb), checked before anything is spawned.
import { UsageError } from '../errors';
import { checkCoreDir } from './core';

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
