// tender.ts: main() of the solo5-spt (and later solo5-hvt) CLI: parse, launch, map the exit.
import { isSolo5Error } from '../errors';
import { createLog } from '../log';
import { describeExit } from '../tender/exit';
import { launch } from '../tender/launch';
import type { Target } from '../tender/options';
import { version } from '../version';
import { parseTenderArgs, usage } from './tender-args';

/** Run the tender CLI; returns the process exit status. Never throws for user errors. */
export async function main(argv: readonly string[], target: Target): Promise<number> {
  const tool = `solo5-${target}`;
  try {
    const args = parseTenderArgs(argv, target);
    if (args.help) {
      process.stdout.write(`${usage(tool, target)}\n`);
      return 0;
    }
    if (args.version) {
      process.stdout.write(`${tool} ${version()}\n`);
      return 0;
    }
    const log = createLog({
      level: args.logLevel,
      format: args.logFormat ?? 'auto',
    }).child({ tender: tool });
    const guest = await launch(args.launch, log);
    const stop = (sig: NodeJS.Signals) => () => guest.kill(sig);
    process.once('SIGINT', stop('SIGINT'));
    process.once('SIGTERM', stop('SIGTERM'));
    const exit = await guest.exited;
    const line = describeExit(exit);
    if (line !== undefined) process.stderr.write(`${tool}: ${line}\n`);
    return exit.status;
  } catch (e) {
    if (isSolo5Error(e)) {
      process.stderr.write(`${tool}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`${tool}: internal error: ${(e as Error).message ?? String(e)}\n`);
    return 1;
  }
}
