// spawn.ts: start the helper through the addon and learn of its end without polling.
import fs from 'node:fs';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { HostError } from '../errors';
import { helperPath, native } from '../native';

export interface HelperExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the helper wrote on fd 2 (only before the jump to the guest). */
  diag: string;
}

export interface HelperProcess {
  pid: number;
  /** The console when spawned with 'pipe'. */
  console: Readable | null;
  /** Settles once the process is reaped and its console fully read. */
  exited: Promise<HelperExit>;
  kill(signal: NodeJS.Signals): void;
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(os.constants.signals).map(([name, num]) => [num, name as NodeJS.Signals]),
);

/** Read whatever is buffered in a non-blocking pipe, then close it. */
function drain(fd: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  try {
    for (let total = 0; total < 65536;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      total += n;
    }
  } catch {
    // EAGAIN: nothing more buffered.
  }
  fs.closeSync(fd);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Spawn the helper with console `consoleOpt` (fd 1) and `fds` as 3, 4, ...
 * The CLI path ('inherit' or an fd) loads no stream modules at all.
 */
export function spawnHelperProcess(consoleOpt: 'pipe' | 'inherit' | number, fds: number[]): HelperProcess {
  let onExit: (code: number | null, signal: number) => void = () => {};
  const reaped = new Promise<{ code: number | null; signal: number }>((resolve) => {
    onExit = (code, signal) => resolve({ code, signal });
  });
  let child: { pid: number; diagFd: number; consoleFd: number };
  try {
    const consoleArg = consoleOpt === 'pipe' ? 'pipe' : consoleOpt === 'inherit' ? 1 : consoleOpt;
    child = native().spawnHelper(helperPath, consoleArg, fds, (code, signal) => onExit(code, signal));
  } catch (e) {
    throw new HostError(`cannot start the helper: ${(e as Error).message}`);
  }
  let console: Readable | null = null;
  let consoleClosed: Promise<void> = Promise.resolve();
  if (child.consoleFd >= 0) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: node:net only when the guest has a console socket
    const net = require('node:net') as typeof import('node:net');
    const sock = new net.Socket({ fd: child.consoleFd, readable: true, writable: false });
    console = sock;
    consoleClosed = new Promise((resolve) => sock.once('close', () => resolve()));
  }
  let ended = false;
  const exited = reaped.then(async (r) => {
    ended = true;
    // A console being read is delivered in full before `exited` settles; one nobody reads is not waited for.
    if (console?.readableFlowing === true) await consoleClosed;
    return { code: r.code, signal: r.signal ? (signalNames.get(r.signal) ?? null) : null, diag: drain(child.diagFd) };
  });
  return {
    pid: child.pid,
    console,
    exited,
    kill(signal) {
      // Until onExit ran the process is unreaped, so the pid cannot have been reused.
      if (!ended) process.kill(child.pid, signal);
    },
  };
}
