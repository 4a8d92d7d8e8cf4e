// state.ts: the per-container state directory under --root, and the status derived from it.
import fs from 'node:fs';
import path from 'node:path';
import { DOES_NOT_EXIST, NOT_RUNNING, OciError } from './errors';
import { quote } from '../quote';

/** The runtime-spec version of the state JSON this runtime prints. */
export const OCI_VERSION = '1.0.2';

/** What `create` records once the monitor holds the guest (state.json). */
export interface Record {
  id: string;
  bundle: string;
  rootfs: string;
  /**
   * The container's process as the caller sees it (pid file, waitpid, signals):
   * the monitor, or with `monitorless` the helper that becomes the guest.
   */
  pid: number;
  /** The helper waits at a start gate (lib/oci/gated.ts) and is the guest; no monitor. */
  monitorless?: boolean;
  /** Field 22 of /proc/PID/stat when recorded, so a reused pid is never mistaken for ours. */
  pidStart: string;
  created: string;
  owner: string;
  annotations: { [k: string]: string };
  /** The container's cgroup (lib/oci/cgroup.ts), its path under each hierarchy, when config.json names one. */
  cgroup?: string;
  /** The tap the monitor made in the container's network namespace, and that namespace's path. */
  tap?: { name: string; netns?: string };
}

/** Written by the monitor when it released the guest, or by `start` opening the gate (started.json). */
export interface Started {
  guestPid: number;
  guestStart: string;
}

export type Status = 'creating' | 'created' | 'running' | 'stopped';

/** Container ids become directory names: no separators, no dot-dot, nothing a shell would mangle. */
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

export function checkId(id: string | undefined): string {
  if (id === undefined || id === '') throw new OciError('a container ID is required');
  if (!ID_RE.test(id)) throw new OciError(`container ID '${quote(id)}': use letters, digits and _ . + - only`);
  return id;
}

/** The default root: runc's convention, /run/solo5-oci for root, else under XDG_RUNTIME_DIR. */
export function defaultRoot(): string {
  if (process.getuid?.() === 0) return '/run/solo5-oci';
  const xdg = process.env.XDG_RUNTIME_DIR;
  return path.join(xdg !== undefined && xdg !== '' ? xdg : '/tmp', 'solo5-oci');
}

/**
 * The state root is believed only if the caller owns it and no one else can
 * write to it: its state.json files name pids that kill and delete signal, so a
 * root another user made first (the /tmp fallback) could aim them anywhere.
 * A root that does not exist yet is fine; create makes it private.
 */
export function checkRoot(root: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new OciError(`${root}: cannot look at the state root (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!st.isDirectory()) throw new OciError(`${root}: the state root is not a directory`);
  const uid = process.geteuid?.() ?? st.uid;
  if (st.uid !== uid)
    throw new OciError(`${root}: the state root belongs to uid ${st.uid}, not to this user (uid ${uid}); choose another with --root`);
  if ((st.mode & 0o022) !== 0)
    throw new OciError(
      `${root}: the state root is writable by others (mode ${(st.mode & 0o777).toString(8)}); chmod go-w it or choose another with --root`,
    );
}

/** Make `dir` (and missing parents) with mode 0700; refuse one that others own, close one that others can enter. */
export function ensurePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new OciError(`${dir}: cannot make the state directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new OciError(`${dir}: not a directory`);
  const uid = process.geteuid?.() ?? st.uid;
  if (st.uid !== uid) throw new OciError(`${dir}: belongs to uid ${st.uid}, not to this user (uid ${uid})`);
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

export function containerDir(root: string, id: string): string {
  return path.join(root, checkId(id));
}

export function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OciError(`${file}: unreadable state (${(e as Error).message})`);
  }
}

/** The container's record, or a one-line error naming the id when there is none. */
export function loadRecord(root: string, id: string): Record {
  const dir = containerDir(root, id);
  const rec = readJson(path.join(dir, 'state.json'));
  if (rec === undefined) {
    if (fs.existsSync(dir)) throw new OciError(`container ${id} is still being created`);
    throw new OciError(`container ${id} ${DOES_NOT_EXIST}`);
  }
  return rec as Record;
}

export function loadStarted(root: string, id: string): Started | undefined {
  return readJson(path.join(containerDir(root, id), 'started.json')) as Started | undefined;
}

/** Fields 3 on of /proc/PID/stat ([0] the state, [1] the ppid, [19] the start time), or undefined once it is gone. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; fields resume after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Start time of a live (not zombie) process, or undefined when it is gone or a zombie. */
export function liveStart(pid: number): string | undefined {
  const fields = statFields(pid);
  if (fields === undefined || fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

export function isAlive(pid: number, start: string): boolean {
  return pid > 0 && liveStart(pid) === start;
}

/** Wait (bounded, 5 s) until a SIGKILLed process is gone; the kernel finishes that on its own. */
export function awaitGone(pid: number, start: string): void {
  const shared = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 1000 && isAlive(pid, start); i++) Atomics.wait(shared, 0, 0, 5);
}

/** The host pids of `pid`'s children (every thread's; the kernel's CONFIG_PROC_CHILDREN). */
function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((t) => {
    try {
      return fs
        .readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8')
        .split(' ')
        .filter((x) => x.trim() !== '')
        .map(Number);
    } catch {
      return [];
    }
  });
}

/**
 * The host pid of a monitor's live guest, or undefined. The monitor records the
 * pid it sees, which in a pid namespace is the namespace's number: the guest is
 * then the monitor's child with the recorded start time.
 */
export function liveGuest(monitorPid: number, started: Started): number | undefined {
  if (isAlive(started.guestPid, started.guestStart) && statFields(started.guestPid)?.[1] === String(monitorPid)) return started.guestPid;
  return childrenOf(monitorPid).find((p) => isAlive(p, started.guestStart));
}

export function statusOf(root: string, rec: Record): Status {
  if (!isAlive(rec.pid, rec.pidStart)) return 'stopped';
  return loadStarted(root, rec.id) === undefined ? 'created' : 'running';
}

/** What start, kill and delete may do in each status; undefined: allowed. */
export type Transition = 'start' | 'kill' | 'kill --all' | 'delete' | 'delete --force';

/**
 * The one table of allowed transitions, refusals in runc's words (its
 * libcontainer state machine and kill). kill --all of a stopped container
 * succeeds, as with runc 1.1: containerd sends it after every exit and keeps
 * the container RUNNING for ever if it fails.
 */
export const TRANSITIONS: { readonly [s in Status]: { readonly [t in Transition]?: string } } = {
  creating: {
    start: 'cannot start a container that is still being created',
    kill: NOT_RUNNING,
    delete: 'cannot delete a container that is still being created',
  },
  created: {},
  running: {
    start: 'cannot start an already running container',
    delete: 'cannot delete a running container: stop it first, or use delete --force',
  },
  stopped: { start: 'cannot start a container that has stopped', kill: NOT_RUNNING },
};

/** Throws the refusal of `t` in status `s`, naming the container. */
export function checkTransition(id: string, s: Status, t: Transition): void {
  const why = TRANSITIONS[s][t];
  if (why !== undefined) throw new OciError(`container ${id}: ${why}`);
}

/** Ids of every container under root, sorted. */
export function listIds(root: string): string[] {
  try {
    return fs
      .readdirSync(root)
      .filter((n) => ID_RE.test(n))
      .sort();
  } catch {
    return [];
  }
}

export function removeDir(root: string, id: string): void {
  fs.rmSync(containerDir(root, id), { recursive: true, force: true });
}
