// tender.ts: main() of the solo5-spt and solo5-hvt CLIs: parse, launch, map the exit.
import os from 'node:os';
import { TENDER_ABI_VERSIONS } from '../elf/abi';
import { isSolo5Error } from '../errors';
import { createLog } from '../log';
import { describePasstInfo } from '../net/passt-report';
import { describeExit } from '../tender/exit';
import { launch } from '../tender/launch';
import type { Target } from '../tender/options';
import { version } from '../version';
import { parseTenderArgs, usage } from './tender-args';

/** The ABI versions each tender runs, one `ABI version N` line each (orchestrators read them). */
export const ABI_VERSIONS: Readonly<Record<Target, readonly number[]>> = TENDER_ABI_VERSIONS;

/** Signals that end the CLI: the guest is killed first, then the CLI exits 128+N like a shell would. */
const ENDING_SIGNALS: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGTERM'];

/** `PROG tender, version X` and one `ABI version N` line per ABI, as upstream's tenders print it. */
export function versionText(tool: string, target: Target): string {
  return [`${tool} tender, version ${version()}`, ...ABI_VERSIONS[target].map((v) => `ABI version ${v}`)].join('\n');
}

/**
 * Run the tender CLI; returns the process exit status. Never throws for user
 * errors. `program` is the name it was run as (for --version and messages).
 */
export async function main(argv: readonly string[], target: Target, program?: string): Promise<number> {
  const tool = program?.replace(/\.js$/, '') || `solo5-${target}`;
  try {
    const args = parseTenderArgs(argv, target);
    if (args.help) {
      process.stdout.write(`${usage(tool, target)}\n`);
      return 0;
    }
    if (args.version) {
      process.stdout.write(`${versionText(tool, target)}\n`);
      return 0;
    }
    const log = createLog({
      level: args.logLevel,
      format: args.logFormat ?? 'auto',
    }).child({ tender: tool });
    const guest = await launch(args.launch, log);
    // What passt offers the guest is worth a line even at the default level (it is logged at info).
    if (!log.enabled('info')) {
      for (const [name, n] of guest.net)
        if (n.passt) process.stderr.write(`${tool}: ${name}: passt gives the guest ${describePasstInfo(n.passt)}\n`);
    }
    let endedBy: NodeJS.Signals | undefined;
    const onSignal = (sig: NodeJS.Signals) => {
      endedBy ??= sig;
      guest.kill('SIGKILL');
    };
    for (const sig of ENDING_SIGNALS) process.on(sig, onSignal);
    const exit = await guest.exited;
    for (const sig of ENDING_SIGNALS) process.off(sig, onSignal);
    if (endedBy !== undefined) {
      process.stderr.write(`${tool}: ${endedBy}: guest killed\n`);
      return 128 + (os.constants.signals[endedBy] ?? 0);
    }
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
