// proc.ts: watching processes, through /proc and their output, for the lifecycle, privilege and tap tests.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import type { Readable } from 'node:stream';

/**
 * The fields of /proc/PID/stat from field 3 (state) on, or undefined when the
 * process is gone. The command name (field 2) may hold spaces and
 * parentheses, so the fields resume after the last ')': [0] is the state,
 * [1] the ppid, [19] the start time.
 */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat (start time), so that a reused pid is not taken for the same process. */
export function startTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** True once the process is gone: no /proc entry, a zombie, or another process under its pid. */
export function isGone(pid: number, started: string): boolean {
  const fields = statFields(pid);
  return fields === undefined || fields[0] === 'Z' || fields[0] === 'X' || fields[19] !== started;
}

/**
 * Wait for a process to end. /proc offers no notification for a process that
 * is not our child, so this checks its entry until it changes; the deadline
 * only bounds a failing test.
 */
export async function waitGone(pid: number, started: string, deadlineMs = 120_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (!isGone(pid, started)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * The pids of a process's children, whichever of its threads spawned them:
 * field 4 of every /proc/N/stat. (/proc/PID/task/TID/children is exact only
 * while the children are stopped, and it is per thread.)
 */
export function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    // A process that exited while we looked has no fields.
    if (/^\d+$/.test(name) && Number(statFields(name)?.[1]) === pid) kids.push(Number(name));
  }
  return kids;
}

/** The `Key:\tvalue` lines of /proc/PID/status. */
export function procStatus(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

/** Resolve with everything read so far once `text` appears on a stream. */
export function waitForText(stream: NodeJS.ReadableStream, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (b: Buffer | string) => {
      seen += b.toString();
      if (seen.includes(text)) {
        stream.off('data', onData);
        resolve(seen);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => {
      if (!seen.includes(text)) reject(new Error(`stream ended before '${text}' (saw ${JSON.stringify(seen)})`));
    });
  });
}

/**
 * The status a shell shows ($?) for a process that ended as spawnSync reports
 * it: its exit status, or 128 + N when signal N ended it (solo5-spt dies of
 * its guest's fatal signal, as upstream's tender does).
 */
export function shellStatus(r: { status: number | null; signal: NodeJS.Signals | null }): number {
  if (r.status !== null) return r.status;
  return r.signal === null ? -1 : 128 + os.constants.signals[r.signal];
}

/** A child started with piped output: what it printed so far, and its exit code once it closes. */
export interface Watched {
  child: ChildProcessByStdio<null, Readable, Readable>;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

/** Spawns argv (stdin ignored) and collects its stdout and stderr, for tests that talk to a running guest. */
export function spawnWatched(argv: string[]): Watched {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}
