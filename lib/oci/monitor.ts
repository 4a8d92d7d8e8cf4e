// monitor.ts: the container's process: holds the guest between create and start, then waits on it and exits with its status.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isSolo5Error } from '../errors';
import { describeExit } from '../tender/exit';
import { prepare as prepareGuest, type Guest, type PreparedGuest } from '../tender/launch';
import type { LaunchOptions } from '../tender/options';
import { ipv4Args, unwireNetwork, wireNetwork, type Wired } from './network';
import type { Plan } from './plan';
import { liveStart, writeJson } from './state';
import { oneLine } from '../quote';

/** Signals passed on to the guest; what it does with them decides the container's status. */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** The channel to `create`: one line, "ready" or the reason it failed, on fd 3. */
function tellCreator(line: string): void {
  try {
    fs.writeSync(3, `${line}\n`);
    fs.closeSync(3);
  } catch {
    // create went away; nobody is left to tell.
  }
}

/**
 * Everything create promises before it returns: the network wired, the ELF
 * checked, the devices open and guest memory loaded; only the spawn is left.
 * Used by the monitor and by a monitorless create (lib/oci/gated.ts).
 */
export async function prepare(plan: Plan): Promise<{ guest: PreparedGuest; wired: Wired[] }> {
  const wired = Object.keys(plan.net).length > 0 ? wireNetwork(plan.net) : [];
  const options: LaunchOptions = {
    kernel: plan.kernel,
    args: [...plan.args, ...(plan.ipv4Args ? ipv4Args(wired) : [])],
    memMB: plan.memMB,
    target: plan.target,
    console: 'inherit',
    block: new Map(Object.entries(plan.block)),
    net: new Map(wired.map((w) => [w.device, { iface: w.tap, mac: w.mac }])),
  };
  try {
    return { guest: await prepareGuest(options), wired };
  } catch (e) {
    unwireNetwork(wired);
    throw e;
  }
}

/** Run the monitor for the container whose state directory is `dir`; resolves to the exit status. */
export async function monitor(dir: string): Promise<number> {
  const plan = JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8')) as Plan;
  let prepared: { guest: PreparedGuest; wired: Wired[] } | undefined;
  /** Wire and load; the reason it failed, or undefined. */
  const prepareNow = async (): Promise<string | undefined> => {
    try {
      prepared = await prepare(plan);
    } catch (e) {
      return oneLine(isSolo5Error(e) ? e.message : `internal error: ${(e as Error).message}`);
    }
    if (prepared.wired.length > 0) writeJson(path.join(dir, 'network.json'), prepared.wired);
    return undefined;
  };
  // Late (plan.late): create asks over the socket once its hooks have made the namespace's interfaces.
  if (plan.late !== true) {
    const why = await prepareNow();
    if (why !== undefined) {
      tellCreator(`error ${why}`);
      return 1;
    }
  }
  const cleanup = () => {
    prepared?.guest.release();
    unwireNetwork(prepared?.wired ?? []);
  };
  let guest: Guest | undefined;
  let onExit: (status: number) => void = () => {};
  const done = new Promise<number>((resolve) => (onExit = resolve));
  for (const sig of FORWARDED) {
    process.on(sig, () => {
      if (guest !== undefined) guest.kill(sig);
      else {
        cleanup();
        onExit(128 + os.constants.signals[sig]);
      }
    });
  }
  const sockPath = path.join(dir, 'start.sock');
  let preparing = false;
  const server = net.createServer((conn) => {
    conn.once('data', (d) => {
      if (d.toString('utf8').trim() === 'prepare') {
        if (plan.late !== true || preparing) {
          conn.end('error the guest was already prepared\n');
          return;
        }
        preparing = true;
        void prepareNow().then((why) => {
          conn.end(why === undefined ? 'ok\n' : `error ${why}\n`);
          if (why !== undefined) onExit(1);
        });
        return;
      }
      server.close();
      if (guest !== undefined) {
        conn.end('error the container was already started\n');
        return;
      }
      if (prepared === undefined) {
        conn.end('error the guest was never prepared (create did not finish)\n');
        return;
      }
      prepared.guest.start().then(
        (g) => {
          guest = g;
          writeJson(path.join(dir, 'started.json'), { guestPid: g.pid, guestStart: liveStart(g.pid) ?? '' });
          conn.end(`ok ${g.pid}\n`);
          void g.exited.then((exit) => {
            const line = describeExit(exit);
            if (line !== undefined) process.stderr.write(`solo5-oci: ${line}\n`);
            writeJson(path.join(dir, 'exit.json'), { status: exit.status, reason: line ?? null });
            cleanup();
            onExit(exit.status);
          });
        },
        (e: unknown) => {
          const line = oneLine(isSolo5Error(e) ? e.message : `internal error: ${(e as Error).message}`);
          conn.end(`error ${line}\n`);
          process.stderr.write(`solo5-oci: ${line}\n`);
          cleanup();
          onExit(1);
        },
      );
    });
  });
  // The directory is 0700; the socket is 0600 too, so nobody else can release the guest.
  const oldMask = process.umask(0o177);
  server.listen(sockPath, () => {
    process.umask(oldMask);
    tellCreator('ready');
  });
  server.on('error', (e) => {
    tellCreator(`error cannot listen on ${sockPath}: ${e.message}`);
    cleanup();
    onExit(1);
  });
  const status = await done;
  server.close();
  return status;
}
