// cli.ts: main() of solo5-oci, an OCI runtime speaking runc's command line (podman/conmon, containerd's shim).
import fs from 'node:fs';
import path from 'node:path';
import { isSolo5Error } from '../errors';
import { version } from '../version';
import { COMMAND_FLAGS, GLOBAL_FLAGS, parseFlags, str, type Parsed } from './args';
import * as cmd from './commands';
import { classifyBundle, execRunc, runcList, runcRoot } from './delegate';
import { completePath } from './network';
import { OciError, report, type LogTarget } from './errors';
import { ID_RE, checkId, checkRoot, defaultRoot } from './state';
import { quote } from '../quote';

const USAGE = `usage: solo5-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] [ID]

An OCI runtime that runs a Solo5 unikernel (process.args[0] in the bundle's
rootfs) as the container, for podman, containerd, Docker and Kubernetes; any
other container (a pod's pause sandbox, a sidecar) it hands to runc (on PATH),
with the same arguments but --root ROOT-runc.

Commands:
  create --bundle DIR [--pid-file F] ID   check the unikernel, load it, wait for start
  start ID                                release the guest
  run --bundle DIR [--detach] ID          create and start; wait for the guest unless --detach
  state ID                                runtime-spec state as JSON
  kill ID [SIGNAL]                        signal the container (default SIGTERM)
  delete [--force] ID                     remove it (--force: kill it first)
  list [--format table|json] [--quiet]    every container under --root
  ps [--format table|json] ID             its processes
  features                                what this runtime supports, as JSON

Global options:
  --root DIR            state directory (default /run/solo5-oci for root)
  --log FILE            also write errors to FILE
  --log-format FORMAT   text (default) or json
  --debug, --systemd-cgroup   accepted
  --version, --help

Exit status: create, start, kill, delete: 0 or 1 with one line on stderr;
run (in the foreground): the unikernel's exit status.`;

function one(p: Parsed, what: string): string {
  if (p.operands.length === 0) throw new OciError(`${what}: a container ID is required`);
  if (p.operands.length > (what === 'kill' ? 2 : 1))
    throw new OciError(`${what}: unexpected argument ${p.operands[p.operands.length - 1]}`);
  return checkId(p.operands[0]);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c] + 3))).join('')).join('\n');
}

async function dispatch(command: string, p: Parsed, root: string, log: LogTarget, systemd: boolean): Promise<number> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const warn = (lines: string[]) =>
    lines.forEach((l) => {
      process.stderr.write(`solo5-oci: warning: ${l}\n`);
      report(l, log, 'warning');
    });
  switch (command) {
    case 'create':
    case 'run': {
      const id = one(p, command);
      const { create } = await import('./create.js');
      const foreground = command === 'run' && p.flags.get('detach') !== true;
      const { wait } = await create({
        root,
        id,
        bundle: str(p, 'bundle') ?? process.cwd(),
        pidFile: str(p, 'pid-file'),
        consoleSocket: str(p, 'console-socket'),
        foreground,
        systemdCgroup: systemd,
        warn: (l) => warn([l]),
      });
      if (command === 'create') return 0;
      await cmd.start(root, id);
      if (!foreground) return 0;
      const status = await wait();
      if (p.flags.get('keep') !== true) warn(cmd.remove(root, id, true));
      return status;
    }
    case 'start':
      await cmd.start(root, one(p, command));
      return 0;
    case 'state':
      out(JSON.stringify(cmd.state(root, one(p, command)), null, 2));
      return 0;
    case 'kill':
      cmd.kill(root, one(p, command), p.operands[1], p.flags.get('all') === true);
      return 0;
    case 'delete':
      warn(cmd.remove(root, one(p, command), p.flags.get('force') === true));
      return 0;
    case 'list': {
      const all = [...cmd.list(root), ...(runcList(root) as cmd.StateJson[])];
      if (p.flags.get('quiet') === true) all.forEach((s) => out(s.id));
      else if (str(p, 'format') === 'json') out(JSON.stringify(all));
      else
        out(
          table([
            ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
            ...all.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]),
          ]),
        );
      return 0;
    }
    case 'ps': {
      const procs = cmd.ps(root, one(p, command));
      if (str(p, 'format') === 'json') out(JSON.stringify(procs.map((x) => x.pid)));
      else out(table([['PID', 'CMD'], ...procs.map((x) => [String(x.pid), x.cmd])]));
      return 0;
    }
    case 'features':
      out(JSON.stringify(cmd.features(), null, 2));
      return 0;
    default:
      throw new OciError(`unknown command '${quote(command)}' (see --help)`);
  }
}

/**
 * Whether an operand names a container that runc holds under its root beside
 * ours (delegate.ts's runcRoot) and that is not ours: only its directory's
 * existence is looked at, never runc's state.
 */
function namesRuncs(args: readonly string[], root: string): boolean {
  const named = args.filter((a) => !a.startsWith('-') && ID_RE.test(a));
  return !named.some((a) => fs.existsSync(path.join(root, a))) && named.some((a) => fs.existsSync(path.join(runcRoot(root), a)));
}

/** Run one solo5-oci command; returns the exit status and never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  const log: LogTarget = { json: false };
  completePath();
  try {
    const g = parseFlags(argv, GLOBAL_FLAGS, true, 'solo5-oci');
    log.file = str(g, 'log');
    log.json = str(g, 'log-format') === 'json';
    if (g.flags.get('help') === true) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (g.flags.get('version') === true) {
      process.stdout.write(`solo5-oci version ${version()}\nspec: ${cmd.OCI_VERSION}\n`);
      return 0;
    }
    const command = argv[g.next];
    if (command === undefined) throw new OciError('a command is required (see --help)');
    const root = str(g, 'root') ?? defaultRoot();
    // features reads no state.
    if (command !== 'features') checkRoot(root);
    // A container runc ran for us goes to runc, whatever the command; one in neither place is ours to answer.
    if (!['create', 'run', 'list', 'features'].includes(command) && namesRuncs(argv.slice(g.next + 1), root)) execRunc(argv, g.next, root);
    const specs = COMMAND_FLAGS.get(command);
    if (specs === undefined) throw new OciError(`unknown command '${quote(command)}' (see --help)`);
    const p = parseFlags(argv.slice(g.next + 1), specs, false, command);
    if (command === 'create' || command === 'run') {
      const kind = classifyBundle(path.resolve(str(p, 'bundle') ?? process.cwd()));
      report(`${p.operands[0] ?? ''}: ${kind.kind === 'delegate' ? 'runc' : 'unikernel'}: ${kind.why}`, log, 'debug');
      if (kind.kind === 'delegate') execRunc(argv, g.next, root);
    }
    return await dispatch(command, p, root, log, g.flags.get('systemd-cgroup') === true);
  } catch (e) {
    report(isSolo5Error(e) ? e.message : `internal error: ${(e as Error).message ?? String(e)}`, log);
    return 1;
  }
}
