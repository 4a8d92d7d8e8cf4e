// elftool.ts: the solo5-elftool command (gen-manifest, query-manifest, query-abi); returns an exit code.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withErrnoWords } from '../errno.js';
import { isSolo5Error, UsageError } from '../errors.js';
import { ABI_TARGET_NAMES } from '../elf/abi.js';
import { readElfFile } from '../elf/load.js';
import { queryAbi, queryManifest } from '../elf/parse.js';
import { oneLine, quote } from '../quote';

const USAGE = `usage: solo5-elftool COMMAND ...

Commands:
  gen-manifest MANIFEST.json OUTPUT.c
      Validate a JSON manifest and write C source that, compiled and linked
      into a unikernel, carries it as the MFT1 note (.note.solo5.manifest).
  query-manifest ELF
      Print the manifest stored in a unikernel's MFT1 note as JSON
      (pretty-printed, 2-space indent).
  query-abi ELF
      Print the unikernel's ABI1 note as one line of compact JSON:
      {"type":"solo5.abi","target":"spt","version":2}
      (Solo5 spt ABI 2; solo5-node's ring ABI is version 1001).

Both queries read any well-formed Solo5 unikernel, whatever its target and
version, including those built by upstream Solo5's toolchain.

Options:
  --help      Show this text and exit.
  --version   Show the version and exit.

Exit status: 0 on success, 1 on any error (one line on stderr).`;

/** The version of the solo5-node package, found by walking up from this file. */
function packageVersion(): string {
  let dir = __dirname;
  for (;;) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'solo5-node' && 'version' in pkg) {
        return String(pkg.version);
      }
    } catch {
      // no package.json here; keep walking up
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

function want(args: string[], n: number, command: string, names: string): void {
  if (args.length !== n) throw new UsageError(`${command}: expected ${names} (see solo5-elftool --help)`);
}

async function genManifest(input: string, output: string): Promise<void> {
  // zod is loaded only here, so the query commands start faster.
  const { generateManifestC } = await import('../manifest/generate.js');
  generateManifestC(input, output);
}

async function run(argv: string[], out: (s: string) => void): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case '--help':
    case '-h':
      out(`${USAGE}\n`);
      return;
    case '--version':
      out(`solo5-elftool ${packageVersion()}\n`);
      return;
    case 'gen-manifest':
      want(args, 2, command, 'MANIFEST.json OUTPUT.c');
      return genManifest(args[0], args[1]);
    case 'query-manifest': {
      want(args, 1, command, 'ELF');
      const manifest = queryManifest(readElfFile(args[0]), args[0]);
      out(`${JSON.stringify(manifest, null, 2)}\n`);
      return;
    }
    case 'query-abi': {
      want(args, 1, command, 'ELF');
      const { note } = queryAbi(readElfFile(args[0]), args[0]);
      const target = ABI_TARGET_NAMES[note.target] ?? note.target;
      out(`${JSON.stringify({ type: 'solo5.abi', target, version: note.version })}\n`);
      return;
    }
    case undefined:
      throw new UsageError('missing command (see solo5-elftool --help)');
    default:
      throw new UsageError(`unknown command "${quote(command)}" (see solo5-elftool --help)`);
  }
}

/** Runs solo5-elftool with `argv` (without node and script); known errors become one line on stderr and exit 1. */
export async function main(argv: string[]): Promise<number> {
  try {
    await run(argv, (s) => process.stdout.write(s));
    return 0;
  } catch (e) {
    if (!isSolo5Error(e)) throw e;
    process.stderr.write(`solo5-elftool: ${withErrnoWords(oneLine(e.message))}\n`);
    return 1;
  }
}
