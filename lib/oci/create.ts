// create.ts: `create` and `run`: check the bundle, start the container's process (a monitor, or the gated helper), record it.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INSPECT_NOWHERE } from '../cli/signals';
import { native, packageRoot } from '../native';
import { OciError } from './errors';
import { askMonitor } from './commands';
import { HOOKS_FILE, runHooks } from './hooks';
import { unwireRecorded, unwireVia } from './network';
import { planFromSpec, type Plan } from './plan';
import { loadSpec, type Spec } from './spec';
import { CGROUP_DIRS_FILE, cgroupFor, type Cgroup, type Limits } from './cgroup';
import { OCI_VERSION, awaitGone, containerDir, ensurePrivateDir, liveStart, writeJson, type Record } from './state';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** --systemd-cgroup: linux.cgroupsPath is slice:prefix:name. */
  systemdCgroup?: boolean;
  /** Said in --log as a warning (a cgroup a rootless runtime cannot join). */
  warn?: (line: string) => void;
  /** `run` in the foreground keeps the monitor as its child to learn its status. */
  foreground?: boolean;
}

// packageRoot, not __dirname: this module also runs from dist/lib/oci-bundle.js.
const monitorMain = path.join(packageRoot, 'dist', 'lib', 'oci', 'monitor-main.js');

/** The monitor's command: joined to (or in a new) network namespace when config.json asks for one. */
function monitorCommand(netns: string, dir: string): string[] {
  const node = [process.execPath, INSPECT_NOWHERE, monitorMain, dir];
  if (netns === 'host') return node;
  if (netns === 'new') return ['unshare', '--net', '--', ...node];
  return ['nsenter', `--net=${netns}`, '--', ...node];
}

/** The monitor's first line on fd 3: "ready", or "error REASON"; EOF means it died first. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => (text += d));
    pipe.on('end', () => resolve(text.split('\n')[0] ?? ''));
    pipe.on('error', () => resolve(text.split('\n')[0] ?? ''));
  });
}

/**
 * runc's rules: a terminal needs a console socket to hand it over (run in the
 * foreground would need the caller's own terminal, which solo5-oci does not
 * take over), and a console socket without a terminal is a mistake.
 */
function checkTerminal(terminal: boolean, o: CreateOptions): void {
  if (terminal && o.foreground === true)
    throw new OciError('process.terminal: run in the foreground cannot take a terminal; use create --console-socket or run --detach');
  if (terminal && o.consoleSocket === undefined)
    throw new OciError('process.terminal: a terminal needs --console-socket to hand it to the caller');
  if (!terminal && o.consoleSocket !== undefined)
    throw new OciError('--console-socket: config.json does not ask for a terminal (process.terminal)');
}

/** Hand the pty's master to the engine, as runc does: one message on the socket, the fd attached. */
function sendConsole(socketPath: string, master: number): void {
  try {
    native().sendFd(path.resolve(socketPath), '/dev/ptmx', master);
  } catch (e) {
    throw new OciError(`--console-socket ${socketPath}: ${(e as Error).message}`);
  }
}

function writePidFile(file: string, pid: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, String(pid), { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/** The container's process once created: its pid, how to wait for its status, how to undo it. */
interface Started {
  pid: number;
  wait: () => Promise<number>;
  abandon: () => void;
  /** create has nothing left to do with it (the monitor's channel is closed, nothing holds the loop). */
  detach: () => void;
}

/**
 * The monitor path: a node process (in the container's network namespace) holds
 * the guest until start. `gated`: it only prepares the guest there, leaves its
 * helper at the gate, answers "ready PID" and exits; the helper is the container.
 */
async function startMonitor(
  o: CreateOptions,
  plan: Plan,
  dir: string,
  pty: { slave: number } | undefined,
  gated = false,
): Promise<Started> {
  const [cmd, ...args] = monitorCommand(plan.netns, dir);
  // With a terminal the monitor's stdio (and so the guest's console) is the pty's slave end.
  const stdio: StdioOptions = pty !== undefined ? [pty.slave, pty.slave, pty.slave, 'pipe'] : ['inherit', 'inherit', 'inherit', 'pipe'];
  const mode = pty !== undefined ? ['--tty'] : gated ? ['--gated'] : [];
  const spawned = spawn(cmd, [...args, ...mode], { detached: o.foreground !== true, stdio });
  let helper = 0;
  const abandon = () => {
    if (spawned.pid !== undefined && spawned.exitCode === null) spawned.kill('SIGKILL');
    if (helper > 0) process.kill(helper, 'SIGKILL');
  };
  const line = await new Promise<string>((resolve) => {
    spawned.once('error', (e) => resolve(`error cannot start the monitor: ${e.message}`));
    void firstLine(spawned).then(resolve);
  });
  const ready = /^ready(?: ([0-9]+))?$/.exec(line);
  helper = gated && ready?.[1] !== undefined ? Number(ready[1]) : 0;
  if (ready === null || gated !== helper > 0) {
    abandon();
    throw new OciError(line.startsWith('error ') ? line.slice(6) : `the monitor ended before the guest was ready (${cmd})`);
  }
  if (gated) {
    return { pid: helper, wait: () => Promise.reject(new Error('a gated guest is not our child')), abandon, detach: () => spawned.unref() };
  }
  return {
    pid: spawned.pid!,
    wait: () => waitChild(spawned),
    abandon,
    detach: () => {
      (spawned.stdio[3] as NodeJS.ReadableStream & { destroy(): void }).destroy();
      if (o.foreground !== true) spawned.unref();
    },
  };
}

/**
 * The monitorless path (lib/oci/gated.ts): a standalone guest without a
 * terminal (which needs the monitor as its session's controlling process). With
 * no net device it is prepared here; with one, in the container's network
 * namespace by a node process that exits once the helper waits at the gate (and
 * then `run` in the foreground, which waits for the guest as its parent, keeps
 * the monitor).
 */
function monitorless(plan: Plan, o: CreateOptions, hooks: Spec['hooks']): 'here' | 'netns' | undefined {
  if (!plan.standalone || o.consoleSocket !== undefined || plan.late === true) return undefined;
  // A fresh namespace (Docker's) must hold the container's process from create on even without a net device
  // when a creation hook may look at it: Docker's libnetwork-setkey prestart hook configures the namespace of
  // the pid it is given. Without such a hook (podman --network=none, ctr run) nobody looks, and a guest
  // without a net device cannot tell: it is prepared here, without a second node start-up.
  const nsHooks = (['prestart', 'createRuntime', 'createContainer'] as const).some((p) => (hooks?.[p] ?? []).length > 0);
  if (Object.keys(plan.net).length === 0 && (plan.netns !== 'new' || !nsHooks)) return 'here';
  return o.foreground === true ? undefined : 'netns';
}

async function startGated(plan: Plan, dir: string): Promise<Started> {
  const { createGated, gatedStatus } = await import('./gated.js');
  const c = await createGated(plan, dir);
  return {
    pid: c.pid,
    wait: () => gatedStatus(c),
    abandon: () => {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
    detach: () => {},
  };
}

/**
 * The container's process (and so the guest, and a monitor's guest later)
 * goes in linux.cgroupsPath with the memory and CPU limits, so engines' stats
 * and --cpus are the guest's. A runtime that is not root cannot: a warning.
 */
function joinCgroup(spec: Spec, o: CreateOptions, pid: number): Cgroup | undefined {
  const want = spec.linux?.cgroupsPath;
  if (want === undefined || want === '') return undefined;
  const cg = cgroupFor(want, o.systemdCgroup === true);
  const res = spec.linux?.resources;
  const limits: Limits = {
    memory: res?.memory?.limit,
    cpuQuota: res?.cpu?.quota,
    cpuPeriod: res?.cpu?.period,
    cpuShares: res?.cpu?.shares,
  };
  try {
    cg.apply(pid, limits);
  } catch (e) {
    if (process.geteuid?.() === 0) {
      cg.destroy();
      throw e;
    }
    o.warn?.(`${(e as Error).message}; rootless, the container stays in the caller's cgroup`);
    return undefined;
  }
  return cg;
}

/** The runtime-spec state of a container just created (commands.ts's state(), without reading it back). */
function stateOf(r: Record): object {
  return { ociVersion: OCI_VERSION, id: r.id, status: 'created', pid: r.pid, bundle: r.bundle, annotations: r.annotations };
}

/** Create the container; resolves once its process holds the guest, ready for `start`. */
export async function create(o: CreateOptions): Promise<{ record: Record; wait: () => Promise<number> }> {
  ensurePrivateDir(o.root);
  const dir = containerDir(o.root, o.id);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new OciError(`container ${o.id} already exists`);
    throw new OciError(`${dir}: cannot create (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let started: Started | undefined;
  let startedAt: string | undefined;
  let cgroup: Cgroup | undefined;
  let pty: { master: number; slave: number } | undefined;
  try {
    const bundle = path.resolve(o.bundle);
    const spec = loadSpec(bundle);
    checkTerminal(spec.process.terminal === true, o);
    const plan = planFromSpec(spec, bundle);
    if (plan.netns === 'host' && Object.keys(plan.net).length > 0) {
      throw new OciError(
        'linux.namespaces: the unikernel has a net device but the container shares the host network; give it a network namespace',
      );
    }
    // Docker's bridge: eth0 appears in the fresh namespace only once its prestart hook has run (with our pid).
    if (plan.netns === 'new' && Object.keys(plan.net).length > 0) plan.late = true;
    writeJson(path.join(dir, 'plan.json'), plan);
    const where = monitorless(plan, o, spec.hooks);
    const gated = where !== undefined;
    if (where === 'here') started = await startGated(plan, dir);
    else {
      pty = o.consoleSocket !== undefined ? native().openPty() : undefined;
      started = await startMonitor(o, plan, dir, pty, where === 'netns');
    }
    const pid = started.pid;
    startedAt = liveStart(pid);
    cgroup = joinCgroup(spec, o, pid);
    const record: Record = {
      id: o.id,
      bundle,
      rootfs: path.resolve(bundle, spec.root.path),
      pid,
      pidStart: startedAt ?? '',
      ...(gated ? { monitorless: true } : {}),
      ...(cgroup !== undefined ? { cgroup: cgroup.path } : {}),
      created: new Date().toISOString(),
      owner: String(process.getuid?.() ?? ''),
      annotations: spec.annotations ?? {},
    };
    writeJson(path.join(dir, 'state.json'), record);
    if (cgroup !== undefined)
      fs.writeFileSync(path.join(dir, CGROUP_DIRS_FILE), cgroup.dirs.map((d) => `${d}\n`).join(''), { mode: 0o600 });
    const hooks = spec.hooks ?? {};
    if (Object.values(hooks).some((h) => h.length > 0)) writeJson(path.join(dir, HOOKS_FILE), hooks);
    // For addon/oci/oci_front.c, which starts and deletes a monitorless container without node (and without hooks).
    if (gated) fs.writeFileSync(path.join(dir, 'gate.pid'), `${pid} ${record.pidStart}\n`, { mode: 0o600 });
    // The network is wired and the guest loaded (late: just after); the hooks see the container's pid (docs/oci.md, Hooks).
    const creating = { ...stateOf(record), status: 'creating' };
    for (const phase of ['prestart', 'createRuntime', 'createContainer'] as const) runHooks(phase, hooks[phase], creating);
    if (plan.late === true) {
      // The monitor (the container's process, in the namespace) wires and loads now; then create promises what it always does.
      const line = (await askMonitor(dir, 'prepare')).split('\n')[0];
      if (line !== 'ok') throw new OciError(line.startsWith('error ') ? line.slice(6) : 'the monitor ended before the guest was ready');
    }
    if (pty !== undefined && o.consoleSocket !== undefined) sendConsole(o.consoleSocket, pty.master);
    if (o.pidFile !== undefined) writePidFile(path.resolve(o.pidFile), pid);
    started.detach();
    return { record, wait: started.wait };
  } catch (e) {
    if (started !== undefined) {
      // A fresh namespace (late wiring) has no path to enter once the monitor is gone: undo it through the monitor's
      // first, if that is still the monitor (a pid reused since is someone else's namespace).
      if (startedAt !== undefined && liveStart(started.pid) === startedAt) unwireVia(dir, started.pid);
      started.abandon();
      awaitGone(started.pid, liveStart(started.pid) ?? '');
      // The monitor or helper died with SIGKILL: what was wired for it is undone from here.
      unwireRecorded(dir);
    }
    cgroup?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    // The engine holds the master now, the monitor the slave; create keeps neither.
    if (pty !== undefined) {
      fs.closeSync(pty.master);
      fs.closeSync(pty.slave);
    }
  }
}

/** The monitor's status once it ended (run in the foreground); death by signal N counts as 128+N. */
export function waitChild(child: ChildProcess): Promise<number> {
  const status = (code: number | null, signal: NodeJS.Signals | null) => code ?? 128 + os.constants.signals[signal ?? 'SIGKILL'];
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(status(child.exitCode, child.signalCode));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(status(code, signal))));
}
