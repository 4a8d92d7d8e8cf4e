// passt.ts: find passt, start it on one end of a stream socket, learn what it offers the guest, and see it end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeviceError } from '../errors';
import { passtArgv, type PasstForward } from './passt-args';
import { parsePasstReport, type PasstInfo } from './passt-report';
import { quote } from '../quote';

/** passt's set-up takes milliseconds; this only bounds a passt that hangs before its main loop. */
export const PASST_READY_TIMEOUT_MS = 30_000;
/** The fd number passt finds its socket on: the first after stdin, stdout, stderr. */
const PASST_FD = 3;

export interface PasstStart {
  /** Device name, for messages. */
  device: string;
  /** passt's end of the stream socket; the caller closes its own copy once this returns. */
  fd: number;
  mtu: number;
  forwards: readonly PasstForward[];
  /** Set when the tender runs as root: passt drops to these ids (the guest's) instead of `nobody`. */
  runas?: { uid: number; gid: number };
}

export interface PasstExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** passt's last log line (its reason, when it failed), if any. */
  last?: string;
}

export interface PasstProcess {
  readonly pid: number;
  /** Resolves with passt's report once its set-up is done; rejects with a DeviceError if it ends or hangs first. */
  readonly ready: Promise<PasstInfo>;
  /** Settles once when passt has ended. */
  readonly exited: Promise<PasstExit>;
  /** End passt (SIGTERM) as the tender's own choice: its exit is expected. Idempotent; harmless after it ended. */
  stop(): void;
  /** End passt (SIGTERM) because its link failed: its exit is still a failure to report. */
  kill(): void;
  /** True once stop() was called: an exit after it is expected. */
  readonly stopping: boolean;
}

let checked: { file: string } | { error: string } | undefined;

/**
 * The passt on PATH, checked once per process: it must know --fd (a socket
 * handed over by its parent), which Debian's 2023 packages do and older
 * passt releases did not.
 */
export function findPasst(): string {
  checked ??= lookUp();
  if ('error' in checked) throw new DeviceError(checked.error);
  return checked.file;
}

function lookUp(): { file: string } | { error: string } {
  const dirs = (process.env.PATH ?? '').split(':').filter((d) => d !== '');
  const file = dirs
    .map((d) => path.join(d, 'passt'))
    .find((f) => {
      try {
        fs.accessSync(f, fs.constants.X_OK);
        return fs.statSync(f).isFile();
      } catch {
        return false;
      }
    });
  if (file === undefined) return { error: 'passt is not installed: no passt on PATH (Debian and Ubuntu: apt-get install passt)' };
  const help = spawnSync(file, ['--help'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (help.error) return { error: `cannot run ${file}: ${(help.error as NodeJS.ErrnoException).code ?? help.error.message}` };
  if (!/--fd\b/.test(`${help.stdout}${help.stderr}`))
    return { error: `${file} is too old: it has no --fd option (install a passt from 2023 or later)` };
  return { file };
}

/** For tests: forget the cached look-up (PATH changed). */
export function forgetPasst(): void {
  checked = undefined;
}

/**
 * Start passt for one device. Its log and pid file live in a private
 * directory: the pid file is written once passt's set-up (and its report)
 * is done, which is the event `ready` waits for. As root, passt opens the
 * log while still root (with no capabilities) and the pid file after
 * dropping to `runas`, so each file is made in advance for its writer.
 * The directory is removed as soon as passt is ready; the log stays
 * readable through the fd kept here, for the reason of a later failure.
 */
export function startPasst(s: PasstStart): PasstProcess {
  let file: string;
  try {
    file = findPasst();
  } catch (e) {
    throw new DeviceError(`net device '${quote(s.device)}': ${(e as Error).message}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-passt-'));
  const logFile = path.join(dir, 'log');
  const pidFile = path.join(dir, 'pid');
  let logFd = -1;
  let watcher: fs.FSWatcher | undefined;
  const cleanDir = () => {
    watcher?.close();
    watcher = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  let child: ChildProcess;
  try {
    fs.writeFileSync(logFile, '', { mode: 0o600 });
    fs.writeFileSync(pidFile, '', { mode: 0o600 });
    logFd = fs.openSync(logFile, 'r');
    if (s.runas) {
      fs.chmodSync(dir, 0o711);
      fs.chownSync(pidFile, s.runas.uid, s.runas.gid);
    }
    watcher = fs.watch(dir, () => check());
    const args = passtArgv({ fd: PASST_FD, mtu: s.mtu, forwards: s.forwards, logFile, pidFile, runas: s.runas });
    // Its own session: a Ctrl-C meant for the tender must not reach passt first (the tender ends it).
    child = spawn(file, args, { stdio: ['ignore', 'ignore', 'ignore', s.fd], detached: true });
  } catch (e) {
    cleanDir();
    if (logFd >= 0) fs.closeSync(logFd);
    throw new DeviceError(
      `net device '${quote(s.device)}': cannot start passt: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let logText = '';
  // Once the report is read, only what passt logs after it can say why it ended.
  let reportEnd = 0;
  const readLog = (): string => {
    if (logFd < 0) return logText;
    const buf = Buffer.alloc(16384);
    for (let n; (n = fs.readSync(logFd, buf, 0, buf.length, null)) > 0;) logText += buf.toString('utf8', 0, n);
    // Only the last lines matter once the report is read; passt's log is capped at 1 MiB anyway.
    if (logText.length > 65536) {
      const cut = logText.length - 65536;
      logText = logText.slice(cut);
      reportEnd = Math.max(0, reportEnd - cut);
    }
    return logText;
  };
  const closeLog = () => {
    if (logFd >= 0) fs.closeSync(logFd);
    logFd = -1;
  };
  const lastLine = (): string | undefined =>
    readLog()
      .slice(reportEnd)
      .split('\n')
      .map((l) => l.replace(/^[0-9]+\.[0-9]+: (info: )?/, '').trim())
      .filter((l) => l !== '')
      .pop();

  let stopping = false;
  let settle: { resolve(i: PasstInfo): void; reject(e: Error): void } | undefined;
  const ready = new Promise<PasstInfo>((resolve, reject) => (settle = { resolve, reject }));
  // A failure nobody waits for (stop() before ready) is not an unhandled rejection.
  ready.catch(() => {});
  const fail = (why: string) => {
    if (!settle) return;
    const s2 = settle;
    settle = undefined;
    clearTimeout(timer);
    cleanDir();
    s2.reject(new DeviceError(`net device '${quote(s.device)}': ${why}`));
  };
  const timer = setTimeout(() => {
    fail(`passt did not finish its set-up within ${PASST_READY_TIMEOUT_MS / 1000} s${describeLast(lastLine())}`);
    child.kill('SIGKILL');
  }, PASST_READY_TIMEOUT_MS);
  function check(): void {
    if (!settle) return;
    let pid: string;
    try {
      pid = fs.readFileSync(pidFile, 'utf8');
    } catch {
      return;
    }
    if (!/^[0-9]+\s*$/.test(pid)) return;
    clearTimeout(timer);
    const text = readLog();
    reportEnd = text.length;
    cleanDir();
    const info = parsePasstReport(text, child.pid ?? Number(pid));
    const s2 = settle;
    settle = undefined;
    if (info) s2.resolve(info);
    else
      s2.reject(new DeviceError(`net device '${quote(s.device)}': passt reported no address to give the guest${describeLast(lastLine())}`));
  }

  const exited = new Promise<PasstExit>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      fail(`cannot start passt (${file}): ${e.code ?? e.message}`);
      resolve({ code: null, signal: null, last: lastLine() });
      closeLog();
    });
    child.once('exit', (code, signal) => {
      const last = lastLine();
      const status = code !== null ? `status ${code}` : `signal ${signal ?? '?'}`;
      fail(`passt ended (${status}) before it was ready${describeLast(last)}`);
      closeLog();
      resolve({ code, signal, last });
    });
  });
  return {
    pid: child.pid ?? -1,
    ready,
    exited,
    get stopping() {
      return stopping;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    stop() {
      stopping = true;
      fail('stopped before passt was ready');
      // An exit after this is expected and reported by nobody: what passt logged so far is
      // kept, and its log fd is given back now, not whenever passt gets round to exiting.
      readLog();
      closeLog();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      // Ending the tender does not wait for passt to go: it also exits when its socket closes.
      child.unref();
    },
  };
}

function describeLast(last: string | undefined): string {
  return last !== undefined ? `: passt said: ${last}` : '';
}
