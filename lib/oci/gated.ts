// gated.ts: a monitorless container: the helper itself is the container's process, waiting at a start gate until `start`.
import fs from 'node:fs';
import path from 'node:path';
import { isSolo5Error } from '../errors';
import { native } from '../native';
import { describeExit, type GuestExit } from '../tender/exit';
import { prepare } from './monitor';
import { OciError } from './errors';
import { unwireNetwork } from './network';
import { startHolder, type Holder } from './pidns';
import type { Plan } from './plan';
import { writeJson, type Started } from './state';

/*
 * For a guest that needs nothing from a tender once it runs (Plan.standalone),
 * create prepares it as the monitor would, then spawns the helper with
 * SN_PLAN_F_GATE: it maps memory, drops privileges and blocks reading one byte
 * from a FIFO in the state directory. create exits; the engine's subreaper
 * (conmon, the shim) adopts the helper and collects its status, which is the
 * guest's own, as with runc's init. `start` writes the byte.
 */

/** The FIFO in the container's state directory. */
export const GATE_FILE = 'gate';
/** Written by `start`, exclusively, before it opens the gate: created vs running, and start only once. */
const STARTED_FILE = 'started.json';

export interface GatedContainer {
  pid: number;
  /** How the guest ended, for as long as this process is its parent (run in the foreground). */
  exited: Promise<GuestExit>;
}

/** Prepare the guest in this process and leave its helper waiting at the gate; throws a one-line OciError. */
export async function createGated(plan: Plan, dir: string): Promise<GatedContainer> {
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    prepared = await prepare(plan);
  } catch (e) {
    throw isSolo5Error(e) ? e : new OciError(`internal error: ${(e as Error).message}`);
  }
  const { guest, wired } = prepared;
  let gateFd = -1;
  let holder: Holder | undefined;
  try {
    if (wired.length > 0) writeJson(path.join(dir, 'network.json'), wired);
    gateFd = native().openGate(path.join(dir, GATE_FILE));
    // In a pid namespace the helper is its second process, after solo5-oci-init (lib/oci/pidns.ts).
    if (plan.pidns !== 'host') holder = await startHolder(plan.pidns);
    // From the gate on, the helper's stderr is ours: the engine's log of the container.
    const g = await guest.startGated(gateFd, 2, holder?.ns);
    holder?.watch(g.pid);
    return { pid: g.pid, exited: g.exited };
  } catch (e) {
    holder?.abandon();
    guest.release();
    unwireNetwork(wired);
    throw isSolo5Error(e) ? e : new OciError(`cannot start the guest: ${(e as Error).message}`);
  } finally {
    if (gateFd >= 0) fs.closeSync(gateFd);
  }
}

/**
 * For a guest with a net device: run by create in the container's network
 * namespace (monitor-main.ts --gated), where the tap is wired and opened. Tells
 * create "ready PID" (or "error REASON") on fd 3 and ends, leaving the helper.
 */
export async function gatedMain(dir: string): Promise<number> {
  const tell = (line: string): boolean => {
    try {
      fs.writeSync(3, `${line}\n`);
      fs.closeSync(3);
      return true;
    } catch {
      return false;
    }
  };
  let c: GatedContainer;
  try {
    const plan = JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8')) as Plan;
    c = await createGated(plan, dir);
  } catch (e) {
    tell(`error ${isSolo5Error(e) ? e.message : `internal error: ${(e as Error).message}`}`);
    return 1;
  }
  if (tell(`ready ${c.pid}`)) return 0;
  // create went away: nobody will record, start or delete this container.
  process.kill(c.pid, 'SIGKILL');
  return 1;
}

/** The container's status once a foreground `run` saw it end; the reason goes to stderr as the monitor's would. */
export async function gatedStatus(c: GatedContainer): Promise<number> {
  const exit = await c.exited;
  const line = describeExit(exit);
  if (line !== undefined) process.stderr.write(`solo5-oci: ${line}\n`);
  return exit.status;
}

/**
 * Open the gate: record the start (at most once: link() fails if another start
 * did), then write the byte. No reader left means the helper has ended.
 */
export function openGate(dir: string, id: string, started: Started): void {
  const file = path.join(dir, STARTED_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(started)}\n`, { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new OciError(`cannot start container ${id}: it was already started`);
    throw new OciError(`${file}: cannot record the start (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  let fd: number;
  try {
    fd = fs.openSync(path.join(dir, GATE_FILE), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OciError(
      code === 'ENXIO' ? `cannot start container ${id}: its process has ended` : `cannot start container ${id}: gate: ${code ?? String(e)}`,
    );
  }
  try {
    fs.writeSync(fd, Buffer.from([1]));
  } finally {
    fs.closeSync(fd);
  }
}
