// run.ts: launch a unikernel, collect its console, and wait for it to end (for scripts and tests).
import type { TenderLog } from '../log';
import type { GuestExit } from './exit';
import { launch } from './launch';
import type { LaunchOptions } from './options';

export interface RunOptions extends Omit<LaunchOptions, 'console'> {
  /** Kill the guest with SIGKILL after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /**
   * Called once the guest is running (for instance to send it traffic); run() then waits for the
   * guest's exit. If it throws, the guest is killed and run() rejects with that error.
   */
  drive?: () => Promise<void>;
}

export interface RunResult {
  exit: GuestExit;
  /** Everything the guest wrote to its console, as UTF-8. */
  output: string;
  /** True when the guest was killed because timeoutMs passed. */
  timedOut: boolean;
}

/** Run a unikernel to completion and return its exit and console output. */
export async function run(options: RunOptions, log?: TenderLog): Promise<RunResult> {
  const { timeoutMs, drive, ...rest } = options;
  const guest = await launch({ ...rest, console: 'pipe' }, log);
  const chunks: Buffer[] = [];
  guest.console?.on('data', (b: Buffer) => chunks.push(b));
  let timedOut = false;
  const timer =
    timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          guest.kill('SIGKILL');
        }, timeoutMs)
      : undefined;
  try {
    if (drive) await drive();
  } catch (e) {
    if (timer) clearTimeout(timer);
    guest.kill('SIGKILL');
    // The guest is reaped before the caller hears of the error; its exit adds nothing to it.
    await guest.exited.catch(() => undefined);
    throw e;
  }
  const exit = await guest.exited;
  if (timer) clearTimeout(timer);
  return { exit, output: Buffer.concat(chunks).toString('utf8'), timedOut };
}
