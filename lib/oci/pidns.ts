// pidns.ts: the container's PID namespace, and the mount namespace with its own /proc that `podman top` reads.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { native, packageRoot, type HelperNamespaces } from '../native';
import { OciError } from './errors';

/*
 * podman top (psgo) enters the mount namespace of the container's pid and
 * lists /proc there. So, as runc does when config.json asks for a pid
 * namespace, the container's processes are born in it (native setChildPidNs:
 * util-linux would put a forked parent between the engine and them), and run
 * in a mount namespace of their own whose /proc is that namespace's. The
 * monitor is the namespace's pid 1 (it handles the signals it forwards); a
 * monitorless container's pid 1 is solo5-oci-init (addon/oci/oci_init.c),
 * since the guest handles none and a pid 1 ignores the rest; the helper is
 * exec'd into init's mount namespace by `solo5-oci-init enter`.
 */

/** Made with addon/oci's Makefile next to the front door. */
const INIT = path.join(packageRoot, 'addon', 'oci', 'build', 'solo5-oci-init');

/** Run `spawn` (which must start its child synchronously) so that its child is born in `pidns` ('host': ours). */
export function inPidNs<T>(pidns: string, spawnIt: () => T): T {
  if (pidns === 'host') return spawnIt();
  try {
    native().setChildPidNs(pidns);
  } catch (e) {
    throw new OciError(`linux.namespaces: pid namespace: ${(e as Error).message}`);
  }
  try {
    return spawnIt();
  } finally {
    native().setChildPidNs('');
  }
}

/** The monitor's command starts with this in a PID namespace: a private mount namespace and a /proc of its own. */
export const MOUNT_PROC = ['unshare', '--mount', '--mount-proc', '--'];

/** The pid namespace's own number for host pid `pid` (the last of its NSpid), or undefined once it is gone. */
export function nsPid(pid: number): number | undefined {
  try {
    const line = /^NSpid:\s*(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    const last = line?.trim().split(/\s+/).pop();
    return last === undefined ? undefined : Number(last);
  } catch {
    return undefined;
  }
}

/** solo5-oci-init, ready: where a monitorless guest's helper is to be born, and how it learns the helper's pid. */
export interface Holder {
  pid: number;
  ns: HelperNamespaces;
  /** The helper (host pid) was spawned: the init ends when it does. */
  watch(helperPid: number): void;
  /** The helper was not spawned, or failed: the init ends now. */
  abandon(): void;
}

/** Start solo5-oci-init in `pidns`; resolves once its /proc is mounted. */
export async function startHolder(pidns: string): Promise<Holder> {
  const child = inPidNs(pidns, () => spawn(INIT, [], { stdio: ['pipe', 'pipe', 'ignore'], detached: true }));
  const abandon = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child.unref();
  };
  const line = await new Promise<string>((resolve) => {
    let text = '';
    child.once('error', (e) => resolve(`error cannot run ${INIT}: ${e.message}`));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (text += d));
    child.stdout.on('end', () => resolve(text.split('\n')[0]));
  });
  if (line !== 'ready' || child.pid === undefined) {
    abandon();
    throw new OciError(`pid namespace: solo5-oci-init: ${line.startsWith('error ') ? line.slice(6) : 'ended before it was ready'}`);
  }
  const pid = child.pid;
  return {
    pid,
    // The helper's argv[0], as spawnHelper gives it without a wrapper (addon/spawn/spawn.cc).
    ns: { pidns: `/proc/${pid}/ns/pid`, wrap: [INIT, 'enter', `/proc/${pid}/ns/mnt`, 'solo5-guest'] },
    watch(helperPid: number) {
      const inside = nsPid(helperPid);
      if (inside === undefined) return abandon();
      child.stdin.end(`${inside}\n`);
      child.unref();
    },
    abandon,
  };
}
