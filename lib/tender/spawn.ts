// spawn.ts: start the helper through the addon and learn of its end without polling.
import fs from 'node:fs';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { SN_DIAG_GATE_READY } from '../abi';
import { HostError } from '../errors';
import { helperPath, native, type HelperNamespaces } from '../native';

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
  /**
   * Spawned gated (SN_PLAN_F_GATE): settles once the helper waits at its start
   * gate (with undefined) or ended before it (with what it wrote on fd 2).
   */
  ready?: Promise<string | undefined>;
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

/** What a gated helper writes, alone, on its diagnostics pipe at the gate (include/sn_abi.h). */
const GATE_READY = String.fromCharCode(SN_DIAG_GATE_READY);
const withoutReady = (text: string): string => (text.startsWith(GATE_READY) ? text.slice(1) : text);

/** The diagnostics pipe of a gated helper, read to its end: the helper closes it at the gate. */
function readToEnd(fd: number): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, as for the console below
  const net = require('node:net') as typeof import('node:net');
  const sock = new net.Socket({ fd, readable: true, writable: false });
  let text = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (text += d));
  return new Promise((resolve) => {
    sock.once('close', () => resolve(text));
    sock.once('error', () => sock.destroy());
  });
}

/**
 * Spawn the helper with console `consoleOpt` (fd 1) and `fds` as 3, 4, ...
 * The CLI path ('inherit' or an fd) loads no stream modules at all. `gated`:
 * the plan says SN_PLAN_F_GATE, and `ready` tells when the helper reached its gate.
 */
export function spawnHelperProcess(
  consoleOpt: 'pipe' | 'inherit' | number,
  fds: number[],
  gated = false,
  helper = helperPath,
  ns?: HelperNamespaces,
): HelperProcess {
  let onExit: (code: number | null, signal: number) => void = () => {};
  const reaped = new Promise<{ code: number | null; signal: number }>((resolve) => {
    onExit = (code, signal) => resolve({ code, signal });
  });
  let child: { pid: number; diagFd: number; consoleFd: number };
  try {
    const consoleArg = consoleOpt === 'pipe' ? 'pipe' : consoleOpt === 'inherit' ? 1 : consoleOpt;
    const exit = (code: number | null, signal: number) => onExit(code, signal);
    child =
      ns === undefined ? native().spawnHelper(helper, consoleArg, fds, exit) : native().spawnHelper(helper, consoleArg, fds, exit, ns);
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
  const diagText = gated ? readToEnd(child.diagFd) : undefined;
  // Only the byte says "ready": a helper killed before its gate closes the pipe too. What
  // follows it (a failure to hand fd 2 over, right after) is the helper's diagnostic.
  const ready = diagText?.then((text) => (text === GATE_READY ? undefined : withoutReady(text)));
  const exited = reaped.then(async (r) => {
    ended = true;
    // A console being read is delivered in full before `exited` settles; one nobody reads is not waited for.
    if (console?.readableFlowing === true) await consoleClosed;
    const diag = diagText !== undefined ? withoutReady(await diagText) : drain(child.diagFd);
    return { code: r.code, signal: r.signal ? (signalNames.get(r.signal) ?? null) : null, diag };
  });
  return {
    pid: child.pid,
    console,
    exited,
    ready,
    kill(signal) {
      // Until onExit ran the process is unreaped, so the pid cannot have been reused.
      if (!ended) process.kill(child.pid, signal);
    },
  };
}
