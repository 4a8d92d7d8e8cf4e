// tender.ts: main() of the solo5-spt and solo5-hvt CLIs: parse, launch, map the exit.
import os from 'node:os';
import { withErrnoWords } from '../errno';
import { TENDER_ABI_VERSIONS } from '../elf/abi';
import { invalidOption, isSolo5Error, type Solo5Error } from '../errors';
import { createLog, type TenderLog } from '../log';
import { native } from '../native';
import { describePasstInfo } from '../net/passt-report';
import { describeExit } from '../tender/exit';
import { prepareForCli, type PreparedGuest } from '../tender/launch';
import type { Target } from '../tender/options';
import { version } from '../version';
import { parseTenderArgs, usage } from './tender-args';
import { oneLine, quote } from '../quote';

/** The ABI versions each tender runs, one `ABI version N` line each (orchestrators read them). */
export const ABI_VERSIONS: Readonly<Record<Target, readonly number[]>> = TENDER_ABI_VERSIONS;

/**
 * Signals that end the CLI: the guest is killed first, then the CLI dies of the same signal.
 * SIGUSR1 and SIGUSR2 too: upstream's tender dies of them, and Node must not get SIGUSR1 (lib/cli/signals.ts).
 */
const ENDING_SIGNALS: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2'];

/** `PROG tender, version X` and one `ABI version N` line per ABI, as upstream's tenders print it. */
export function versionText(tool: string, target: Target): string {
  return [`${tool} tender, version ${version()}`, ...ABI_VERSIONS[target].map((v) => `ABI version ${v}`)].join('\n');
}

/**
 * An error's lines for a person: upstream's words where it has them (with upstream's
 * `Invalid option` line after a device option it refused, from `given`: the options as typed),
 * then the project's reason; errnos in words.
 */
export function errorLines(e: Solo5Error, given?: ReadonlyMap<string, string>): string[] {
  if (e.upstream === undefined) return [withErrnoWords(e.message)];
  if (e.upstreamAlone) return [withErrnoWords(e.upstream)];
  const arg = e.option === undefined ? undefined : given?.get(e.option);
  return [...e.upstream.split('\n'), ...(arg === undefined ? [] : [invalidOption(quote(arg))]), e.message].map(withErrnoWords);
}

/**
 * Run the tender CLI; returns the process exit status. Never throws for user
 * errors. `program` is the name it was run as (for --version and messages).
 * A Solo5-ABI guest that needs no broker replaces this process (this never
 * returns then); when a brokered guest dies of a signal, the process ends by
 * that signal once the event loop is done (process 'exit'), and the returned
 * status is what a shell would show for it.
 */
export async function main(argv: readonly string[], target: Target, program?: string): Promise<number> {
  const tool = program?.replace(/\.js$/, '') || `solo5-${target}`;
  const say = (line: string) => process.stderr.write(`${tool}: ${line}\n`);
  let given: ReadonlyMap<string, string> | undefined;
  try {
    const args = parseTenderArgs(argv, target);
    given = args.given;
    // As upstream's tenders: both on stderr, --help with status 1.
    if (args.help) {
      process.stderr.write(`${usage(tool, target)}\n`);
      return 1;
    }
    if (args.version) {
      process.stderr.write(`${versionText(tool, target)}\n`);
      return 0;
    }
    for (const w of args.warnings) say(w);
    const log = createLog({
      level: args.logLevel,
      format: args.logFormat ?? 'auto',
    }).child({ tender: tool });
    const prepared = await prepareForCli(args.launch, log);
    reportPasst(prepared.net, log, say);
    if (prepared.inPlace) prepared.becomeGuest(tool);
    // Taken before the guest starts: it may print (on our stdout) before start() resolves, and a signal sent
    // on that output must still end it with our one line, not kill this process silently.
    let endedBy: NodeJS.Signals | undefined;
    let guest: Awaited<ReturnType<typeof prepared.start>> | undefined;
    const onSignal = (sig: NodeJS.Signals) => {
      endedBy ??= sig;
      guest?.kill('SIGKILL');
    };
    for (const sig of ENDING_SIGNALS) process.on(sig, onSignal);
    let exit;
    try {
      guest = await prepared.start();
      if (endedBy !== undefined) guest.kill('SIGKILL');
      exit = await guest.exited;
    } finally {
      for (const sig of ENDING_SIGNALS) process.off(sig, onSignal);
    }
    if (endedBy !== undefined) {
      say(`${endedBy}: guest killed`);
      return endBySignal(endedBy);
    }
    const line = describeExit(exit);
    if (line !== undefined) say(withErrnoWords(line));
    return exit.kind === 'signal' ? endBySignal(exit.signal) : exit.status;
  } catch (e) {
    if (isSolo5Error(e)) {
      for (const line of errorLines(e, given)) say(oneLine(line));
      return 1;
    }
    say(`internal error: ${oneLine((e as Error).message ?? String(e))}`);
    return 1;
  }
}

/** What passt offers the guest is worth a line even at the default level (it is logged at info). */
function reportPasst(net: PreparedGuest['net'], log: TenderLog, say: (line: string) => void): void {
  if (log.enabled('info')) return;
  for (const [name, n] of net) if (n.passt) say(`${name}: passt gives the guest ${describePasstInfo(n.passt)}`);
}

/**
 * End this process by `sig` once everything queued has run, as upstream's
 * tender, which is its guest, ends; returns the status a shell shows for it.
 */
function endBySignal(sig: NodeJS.Signals): number {
  const signo = os.constants.signals[sig];
  process.once('exit', () => native().dieBySignal(signo));
  return 128 + signo;
}
