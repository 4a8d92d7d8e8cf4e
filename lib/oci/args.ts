// args.ts: runc-style command lines: global flags, a command, its flags (--f v, --f=v, -f v), then operands.
import { OciError } from './errors';
import { quote } from '../quote';

/** A flag's names (first is canonical) and whether it takes a value. */
export interface FlagSpec {
  names: string[];
  value: boolean;
}

export const GLOBAL_FLAGS: FlagSpec[] = [
  { names: ['root'], value: true },
  { names: ['log'], value: true },
  { names: ['log-format'], value: true },
  { names: ['debug'], value: false },
  { names: ['systemd-cgroup'], value: false },
  { names: ['criu'], value: true },
  { names: ['rootless'], value: true },
  { names: ['help', 'h'], value: false },
  { names: ['version', 'v'], value: false },
];

const CREATE_FLAGS: FlagSpec[] = [
  { names: ['bundle', 'b'], value: true },
  { names: ['pid-file'], value: true },
  { names: ['console-socket'], value: true },
  { names: ['pidfd-socket'], value: true },
  { names: ['preserve-fds'], value: true },
  { names: ['no-pivot'], value: false },
  { names: ['no-new-keyring'], value: false },
];

/** By command name, which the user types: a Map, so `constructor` is an unknown command rather than a property. */
export const COMMAND_FLAGS: ReadonlyMap<string, FlagSpec[]> = new Map([
  ['create', CREATE_FLAGS],
  ['run', [...CREATE_FLAGS, { names: ['detach', 'd'], value: false }, { names: ['keep'], value: false }]],
  ['start', []],
  ['state', []],
  ['kill', [{ names: ['all', 'a'], value: false }]],
  ['delete', [{ names: ['force', 'f'], value: false }]],
  [
    'list',
    [
      { names: ['format', 'f'], value: true },
      { names: ['quiet', 'q'], value: false },
    ],
  ],
  ['ps', [{ names: ['format', 'f'], value: true }]],
  ['features', []],
]);

export interface Parsed {
  flags: Map<string, string | true>;
  operands: string[];
}

/**
 * Parse flags from argv[i...] until an operand (global flags) or to the end
 * (command flags, which may follow operands as well).
 */
export function parseFlags(argv: readonly string[], specs: FlagSpec[], stopAtOperand: boolean, where: string): Parsed & { next: number } {
  const flags = new Map<string, string | true>();
  const operands: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      operands.push(...argv.slice(i + 1));
      i = argv.length;
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      if (stopAtOperand) break;
      operands.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const spec = specs.find((s) => s.names.includes(name));
    if (spec === undefined) throw new OciError(`${where}: unknown option -${a.startsWith('--') ? '-' : ''}${quote(name)}`);
    const key = spec.names[0];
    if (!spec.value) {
      if (eq >= 0 && !['true', 'false'].includes(body.slice(eq + 1))) throw new OciError(`${where}: --${key} takes no value`);
      if (eq < 0 || body.slice(eq + 1) === 'true') flags.set(key, true);
      continue;
    }
    if (eq >= 0) flags.set(key, body.slice(eq + 1));
    else if (i + 1 < argv.length) flags.set(key, argv[++i]);
    else throw new OciError(`${where}: --${key} needs a value`);
  }
  return { flags, operands, next: i };
}

export function str(p: Parsed, key: string): string | undefined {
  const v = p.flags.get(key);
  return typeof v === 'string' ? v : undefined;
}
