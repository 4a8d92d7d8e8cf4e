// cgroup.ts: put the container's processes in its cgroup (linux.cgroupsPath) with its limits; v2, v1 and hybrid, cgroupfs paths.
import fs from 'node:fs';
import path from 'node:path';
import { OciError } from './errors';
import { quote } from '../quote';

/** In the state directory: the cgroup's directories, one a line, for addon/oci/oci_front.c's delete. */
export const CGROUP_DIRS_FILE = 'cgroup.dirs';

/** The few limits solo5-oci applies: memory (bytes), CPU quota/period (µs), shares. */
export interface Limits {
  memory?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
}

/** A container's cgroup, chosen once per command. */
export interface Cgroup {
  /** The path under every hierarchy's root, as the engine reads it back. */
  readonly path: string;
  /** Its directory in each hierarchy (the front door removes these itself). */
  readonly dirs: string[];
  /** Make the cgroup (every hierarchy), write the limits, move pid in. */
  apply(pid: number, limits: Limits): void;
  /** Kill what is left in it, then remove it (retrying while the kernel still counts the dead). */
  destroy(): void;
}

/** `slice:prefix:name` (the systemd manager's form) or a path; relative paths are under the root. */
export function parseCgroupsPath(value: string, systemd: boolean): string {
  const parts = value.split(':');
  if (systemd || (parts.length === 3 && !value.startsWith('/'))) {
    if (parts.length !== 3) throw new OciError(`linux.cgroupsPath: '${quote(value)}': the systemd form is slice:prefix:name`);
    const [slice, prefix, name] = parts;
    if (!/^[A-Za-z0-9_.-]*$/.test(slice + prefix + name) || name === '')
      throw new OciError(`linux.cgroupsPath: '${quote(value)}': slice, prefix and name take letters, digits and _ . - only`);
    // systemd nests a-b-c.slice in a.slice/a-b.slice; the unit is PREFIX-NAME.scope.
    const s = slice === '' ? 'system.slice' : slice;
    const dashes = s.replace(/\.slice$/, '').split('-');
    const chain = dashes.map((_, i) => `${dashes.slice(0, i + 1).join('-')}.slice`);
    const unit = name.endsWith('.slice') ? name : `${prefix === '' ? '' : `${prefix}-`}${name}.scope`;
    return path.posix.join('/', ...chain, unit);
  }
  const p = path.posix.normalize(path.posix.join('/', value));
  if (p.split('/').includes('..')) throw new OciError(`linux.cgroupsPath: '${quote(value)}' leaves the cgroup root`);
  return p;
}

/**
 * v1 hierarchies worth joining: the ones engines read stats and limits from.
 * cpuset is left out: a new cpuset cgroup starts with no CPUs and refuses
 * every process until filled in, and no limit here needs it.
 */
const V1_WANTED = ['cpu', 'cpuacct', 'memory', 'pids', 'blkio', 'name=systemd'];

/** Mounted hierarchies: cgroup2 (unified), and each v1 one with its controllers. */
function hierarchies(): { dir: string; v2: boolean; controllers: string[] }[] {
  let mounts: string;
  try {
    mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  const out: { dir: string; v2: boolean; controllers: string[] }[] = [];
  for (const line of mounts.split('\n')) {
    const [, dir, type, opts] = line.split(' ');
    if (type === 'cgroup2') out.push({ dir, v2: true, controllers: [] });
    else if (type === 'cgroup') {
      const controllers = (opts ?? '').split(',');
      if (controllers.some((c) => V1_WANTED.includes(c))) out.push({ dir, v2: false, controllers });
    }
  }
  return out;
}

function write(file: string, value: string): void {
  try {
    fs.writeFileSync(file, value);
  } catch (e) {
    throw new OciError(`cgroup: ${file}: cannot write ${value.trim()} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** v1 and v2 files for each limit; a hierarchy without the controller has no such file and is skipped. */
function limitFiles(l: Limits, v2: boolean): [string, string][] {
  const out: [string, string][] = [];
  if (l.memory !== undefined && l.memory > 0) out.push(v2 ? ['memory.max', `${l.memory}`] : ['memory.limit_in_bytes', `${l.memory}`]);
  if (l.cpuQuota !== undefined && l.cpuQuota > 0) {
    const period = l.cpuPeriod ?? 100000;
    if (v2) out.push(['cpu.max', `${l.cpuQuota} ${period}`]);
    else out.push(['cpu.cfs_period_us', `${period}`], ['cpu.cfs_quota_us', `${l.cpuQuota}`]);
  }
  if (l.cpuShares !== undefined && l.cpuShares > 0) {
    // runtime-spec shares (2..262144) to cgroup v2 weight (1..10000), as runc converts them.
    const weight = Math.round(1 + ((l.cpuShares - 2) * 9999) / 262142);
    out.push(v2 ? ['cpu.weight', `${weight}`] : ['cpu.shares', `${l.cpuShares}`]);
  }
  return out;
}

/** v2: the controllers a limit needs, enabled in every parent's subtree_control (best effort: a busy parent says no). */
function enableControllers(top: string, rel: string): void {
  let dir = top;
  for (const part of rel.split('/').filter((x) => x !== '')) {
    try {
      const have = fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
      const want = ['cpu', 'memory', 'pids'].filter((c) => have.includes(c));
      if (want.length > 0) fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), want.map((c) => `+${c}`).join(' '));
    } catch {
      // Not delegated to us, or processes in an inner node: limits that need it fail below, in one line.
    }
    dir = path.join(dir, part);
  }
}

function killAll(dir: string): void {
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
    return;
  } catch {
    // v1, or a kernel before 5.14: signal each process.
  }
  let procs: string;
  try {
    procs = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
  } catch {
    return;
  }
  for (const pid of procs.split('\n').filter((x) => x !== '')) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

function removeDir(dir: string): void {
  const shared = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 200; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') return;
      Atomics.wait(shared, 0, 0, 10);
    }
  }
}

/** The container's cgroup in every mounted hierarchy (v2 alone, v1 alone, or both on a hybrid host). */
export function cgroupFor(cgroupsPath: string, systemd: boolean): Cgroup {
  const rel = parseCgroupsPath(cgroupsPath, systemd);
  const dirs = hierarchies().map((h) => ({ ...h, at: path.join(h.dir, rel) }));
  return {
    path: rel,
    dirs: dirs.map((h) => h.at),
    apply(pid: number, limits: Limits): void {
      for (const h of dirs) {
        if (h.v2) enableControllers(h.dir, rel);
        try {
          fs.mkdirSync(h.at, { recursive: true });
        } catch (e) {
          throw new OciError(`cgroup: cannot make ${h.at} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
        }
        for (const [file, value] of limitFiles(limits, h.v2)) if (fs.existsSync(path.join(h.at, file))) write(path.join(h.at, file), value);
        write(path.join(h.at, 'cgroup.procs'), `${pid}`);
      }
    },
    destroy(): void {
      for (const h of dirs) killAll(h.at);
      for (const h of dirs) removeDir(h.at);
    },
  };
}
