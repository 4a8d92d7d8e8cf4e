// commands.ts: start, state, kill, delete, list, ps and features, read from the state directory.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OciError } from './errors';
import { unwireRecorded, unwireVia } from './network';
import { cgroupFor } from './cgroup';
import { HOOK_PHASES, HOOKS_FILE, runHooks, type Hooks } from './hooks';
import {
  OCI_VERSION,
  awaitGone,
  checkTransition,
  containerDir,
  isAlive,
  listIds,
  loadRecord,
  loadStarted,
  removeDir,
  statusOf,
  liveStart,
  type Record,
  type Status,
} from './state';

export { OCI_VERSION } from './state';

/** Release the guest: open its gate (monitorless), or ask the monitor over its socket and wait for its answer. */
export async function start(root: string, id: string): Promise<void> {
  const rec = loadRecord(root, id);
  checkTransition(id, statusOf(root, rec), 'start');
  const hooks = readHooks(containerDir(root, id));
  runHooks('startContainer', hooks.startContainer, state(root, id));
  await release(root, id, rec);
  // runtime-spec: a failing poststart is reported, and the container goes on running.
  runHooks('poststart', hooks.poststart, state(root, id));
}

/** One request to the monitor over its socket in the state directory `dir` ('prepare' from create, 'start'); what it answered. */
export function askMonitor(dir: string, request: 'prepare' | 'start'): Promise<string> {
  return new Promise<string>((resolve) => {
    let text = '';
    const sock = net.connect(path.join(dir, 'start.sock'));
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${request}\n`));
    sock.on('data', (d: string) => (text += d));
    sock.on('close', () => resolve(text));
    sock.on('error', (e) => resolve(`error cannot reach the monitor: ${e.message}`));
  });
}

async function release(root: string, id: string, rec: Record): Promise<void> {
  if (rec.monitorless === true) {
    const { openGate } = await import('./gated.js');
    openGate(containerDir(root, id), id, { guestPid: rec.pid, guestStart: rec.pidStart });
    return;
  }
  const reply = await askMonitor(containerDir(root, id), 'start');
  const line = reply.split('\n')[0];
  if (!line.startsWith('ok'))
    throw new OciError(line.startsWith('error ') ? line.slice(6) : `container ${id}: the monitor ended before starting the guest`);
}

export interface StateJson {
  ociVersion: string;
  id: string;
  status: Status;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: { [k: string]: string };
}

export function state(root: string, id: string): StateJson {
  const rec = loadRecord(root, id);
  const status = statusOf(root, rec);
  return {
    ociVersion: OCI_VERSION,
    id: rec.id,
    status,
    pid: status === 'stopped' ? 0 : rec.pid,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
    annotations: rec.annotations,
  };
}

/** A signal by name (TERM, SIGTERM) or number, as runc accepts it. */
export function parseSignal(s: string | undefined): NodeJS.Signals {
  const sigs = os.constants.signals as { [k: string]: number };
  if (s === undefined || s === '') return 'SIGTERM';
  if (/^[0-9]+$/.test(s)) {
    const name = Object.keys(sigs).find((k) => sigs[k] === Number(s));
    if (name === undefined) throw new OciError(`signal ${s}: no such signal`);
    return name as NodeJS.Signals;
  }
  const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  if (!Object.hasOwn(sigs, name)) throw new OciError(`signal ${s}: no such signal`);
  return name as NodeJS.Signals;
}

/**
 * SIGKILL goes to the guest as well, so it cannot outlive the monitor, and what
 * the monitor wired is undone through its namespace first (it cannot, killed);
 * the rest the monitor forwards. A monitorless container's process is the guest itself.
 */
function signalContainer(root: string, rec: Record, sig: NodeJS.Signals): void {
  if (sig === 'SIGKILL' && rec.monitorless !== true) {
    if (isAlive(rec.pid, rec.pidStart)) unwireVia(containerDir(root, rec.id), rec.pid);
    const started = loadStarted(root, rec.id);
    if (started !== undefined && isAlive(started.guestPid, started.guestStart)) process.kill(started.guestPid, 'SIGKILL');
  }
  process.kill(rec.pid, sig);
}

export function kill(root: string, id: string, signal: string | undefined, all = false): void {
  const sig = parseSignal(signal);
  const rec = loadRecord(root, id);
  const status = statusOf(root, rec);
  checkTransition(id, status, all ? 'kill --all' : 'kill');
  if (status === 'stopped') return;
  signalContainer(root, rec, sig);
}

/** Delete the container; returns warnings (a failed poststop hook) for --log. */
export function remove(root: string, id: string, force: boolean): string[] {
  let rec: Record;
  try {
    rec = loadRecord(root, id);
  } catch (e) {
    // delete --force of a container that is gone (or half-created) is not an error, as with runc.
    if (force) {
      unwireRecorded(containerDir(root, id));
      removeDir(root, id);
      return [];
    }
    throw e;
  }
  const status = statusOf(root, rec);
  checkTransition(id, status, force ? 'delete --force' : 'delete');
  if (status !== 'stopped') {
    signalContainer(root, rec, 'SIGKILL');
    awaitGone(rec.pid, rec.pidStart);
  }
  const dir = containerDir(root, id);
  unwireRecorded(dir);
  if (rec.cgroup !== undefined) cgroupFor(rec.cgroup, false).destroy();
  const hooks = readHooks(dir);
  const last = { ...state(root, id), status: 'stopped' as const, pid: 0 };
  removeDir(root, id);
  // runtime-spec: poststop runs once the container is gone; its failure is a warning, and delete succeeds.
  try {
    runHooks('poststop', hooks.poststop, last);
  } catch (e) {
    return [(e as Error).message];
  }
  return [];
}

/** The hooks create kept for start and delete (hooks.json), or none. */
export function readHooks(dir: string): Hooks {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, HOOKS_FILE), 'utf8')) as Hooks;
  } catch {
    return {};
  }
}

export function list(root: string): StateJson[] {
  const out: StateJson[] = [];
  for (const id of listIds(root)) {
    try {
      out.push(state(root, id));
    } catch {
      // Being created or deleted right now: not listed.
    }
  }
  return out;
}

/** Processes of the container: the monitor, and the guest while it runs; or the guest alone (monitorless). */
export function ps(root: string, id: string): { pid: number; cmd: string }[] {
  const rec = loadRecord(root, id);
  const out: { pid: number; cmd: string }[] = [];
  if (rec.monitorless === true) return isAlive(rec.pid, rec.pidStart) ? [{ pid: rec.pid, cmd: 'guest' }] : [];
  if (isAlive(rec.pid, rec.pidStart)) out.push({ pid: rec.pid, cmd: 'solo5-oci monitor' });
  const started = loadStarted(root, id);
  if (started !== undefined && liveStart(started.guestPid) === started.guestStart) out.push({ pid: started.guestPid, cmd: 'guest' });
  return out;
}

/** runtime-spec features.md: what this runtime understands. */
export function features(): object {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_PHASES],
    mountOptions: ['bind', 'rbind', 'ro', 'rw', 'rprivate', 'private', 'nosuid', 'nodev', 'noexec'],
    linux: {
      namespaces: ['network', 'pid', 'ipc', 'uts', 'mount', 'cgroup'],
      capabilities: [],
      // cgroupfs paths and the systemd slice:prefix:name form, made by solo5-oci itself (no systemd D-Bus).
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'org.solo5-node.runtime': 'solo5-oci' },
  };
}
