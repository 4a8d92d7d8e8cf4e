// build.ts: the solo5-build command: argument parsing around buildUnikernel; returns an exit code.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BUILD_ABIS, BUILD_TARGETS, buildUnikernel, type BuildAbi, type BuildTarget } from '../build';
import { withErrnoWords } from '../errno';
import { isSolo5Error, UsageError } from '../errors';
import { version } from '../version';
import { oneLine, quote } from '../quote';

const USAGE = `usage: solo5-build [OPTIONS] --manifest=MANIFEST.json --output=KERNEL SOURCE...

Builds a Solo5 unikernel from C (.c) and assembly (.S, .s) sources and a
JSON manifest, linked against the solo5-node guest bindings. The manifest is
turned into the MFT1 note by 'solo5-elftool gen-manifest'; the bindings add
the ABI1 note, which names the target and ABI.

Options:
  -m, --manifest=FILE   JSON manifest ({"type":"solo5.manifest","version":1,"devices":[...]})
  -o, --output=FILE     ELF file to write (e.g. hello.spt, hello.hvt)
  -t, --target=TARGET   target bindings: "spt" (the default), "hvt" or "virtio"
                        (Solo5's virtio target, run under QEMU by solo5-virtio-run;
                        --abi=solo5 only, which is its default)
      --abi=ABI         guest ABI: "ring" (the default; solo5-node's own rings),
                        "solo5" (upstream Solo5's ABI 2 of the target, Solo5 >= 0.8)
                        or "solo5-v1" (Solo5's ABI 1 of the target, Solo5 0.6 to 0.7)
      --cflag=FLAG      extra compiler flag for the sources; repeatable
  -v, --verbose         show each command and the compiler's full output
  -h, --help            show this text and exit
      --version         show the version and exit

Exit status: 0 on success, 1 on any error (one line on stderr).`;

const OPTIONS = {
  manifest: { type: 'string', short: 'm' },
  output: { type: 'string', short: 'o' },
  target: { type: 'string', short: 't', default: 'spt' },
  abi: { type: 'string' },
  cflag: { type: 'string', multiple: true },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    // Node's messages run on with advice about '--'; the first sentence is the fault.
    const msg = e instanceof Error ? e.message.split('. ')[0] : String(e);
    throw new UsageError(`${msg} (see solo5-build --help)`);
  }
}

function isTarget(t: string): t is BuildTarget {
  return (BUILD_TARGETS as readonly string[]).includes(t);
}

function isAbi(a: string): a is BuildAbi {
  return (BUILD_ABIS as readonly string[]).includes(a);
}

async function run(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<void> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    out(`${USAGE}\n`);
    return;
  }
  if (values.version) {
    out(`solo5-build ${version()}\n`);
    return;
  }
  if (values.manifest === undefined) throw new UsageError('missing --manifest=FILE (see solo5-build --help)');
  if (values.output === undefined) throw new UsageError('missing --output=FILE (see solo5-build --help)');
  if (positionals.length === 0) throw new UsageError('no source files given (see solo5-build --help)');
  const target = values.target;
  if (!isTarget(target)) throw new UsageError(`--target=${quote(target)}: unknown target (${BUILD_TARGETS.join(' or ')})`);
  const abi = values.abi ?? (target === 'virtio' ? 'solo5' : 'ring');
  if (!isAbi(abi)) throw new UsageError(`--abi=${quote(abi)}: unknown ABI (${BUILD_ABIS.join(', ')})`);
  if (target === 'virtio' && abi !== 'solo5') throw new UsageError(`--target=virtio builds use --abi=solo5, not --abi=${quote(abi)}`);
  await buildUnikernel({
    target,
    abi,
    manifest: values.manifest,
    output: values.output,
    sources: positionals,
    cflags: values.cflag,
    log: values.verbose ? (m) => err(`${m}\n`) : undefined,
  });
}

/** Runs solo5-build with `argv` (without node and script); known errors become one line on stderr and exit 1. */
export async function main(argv: string[]): Promise<number> {
  const err = (s: string): void => void process.stderr.write(s);
  try {
    await run(argv, (s) => process.stdout.write(s), err);
    return 0;
  } catch (e) {
    if (!isSolo5Error(e)) throw e;
    err(`solo5-build: ${withErrnoWords(oneLine(e.message))}\n`);
    return 1;
  }
}
