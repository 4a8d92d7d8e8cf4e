// virtio-run.ts: the solo5-virtio-run command: upstream's options and the tenders' device options around runVirtio; returns an exit code.
import { isSolo5Error, UsageError } from '../errors';
import { version } from '../version';
import { parseAccel, type AccelChoice } from '../virtio/kvm-probe';
import { runVirtio } from '../virtio/run';
import { oneLine } from '../quote';

const USAGE = `usage: solo5-virtio-run [OPTIONS] [--] KERNEL [ARGS...]

Runs a Solo5 virtio unikernel under QEMU (qemu-system-x86_64): the console
on stdout, virtio-blk on disk images, virtio-net on taps. The exit status is
the unikernel's own (from its 'solo5_exit(N) called' line; 255 for an abort).

Options (Solo5's solo5-virtio-run):
  -d DISK             attach DISK (a raw image, whole 512-byte sectors) as the
                      manifest's first block device
  -n TAP              attach tap interface TAP as the manifest's first net device
  -m MB               guest memory in MiB (default 128)
  -H HV               hypervisor: "kvm" (fails if KVM is unusable) or "qemu"
                      (TCG); default: KVM when it works, else TCG with a warning
  -q                  quiet: do not print the QEMU command line
Options (as solo5-spt and solo5-hvt):
  --mem=MB            the same as -m
  --block:NAME=DISK   attach DISK as block device NAME of the manifest
  --net:NAME=TAP      attach tap TAP as net device NAME of the manifest
  --accel=auto|kvm|tcg  the same as -H (auto is the default)
  -h, --help          show this text and exit
      --version       show the version and exit

Exit status: the unikernel's status; 128+N when signal N ended QEMU; 1 when
QEMU or the arguments failed (one line on stderr).`;

interface Parsed {
  help?: boolean;
  version?: boolean;
  kernel?: string;
  args: string[];
  memMiB: number;
  accel: AccelChoice;
  quiet: boolean;
  blocks: Map<string | undefined, string>;
  nets: Map<string | undefined, string>;
}

function mem(option: string, v: string): number {
  if (!/^[0-9]+$/.test(v) || Number(v) < 2) throw new UsageError(`${option} ${v}: not a memory size in MiB (at least 2)`);
  return Number(v);
}

function setOnce(map: Map<string | undefined, string>, key: string | undefined, value: string, option: string): void {
  if (map.has(key)) throw new UsageError(`${option} given twice`);
  if (value === '') throw new UsageError(`${option}: empty value`);
  map.set(key, value);
}

/** Options up to the kernel; everything after the kernel is the guest's. */
export function parseVirtioRunArgs(argv: string[]): Parsed {
  const p: Parsed = { args: [], memMiB: 128, accel: 'auto', quiet: false, blocks: new Map(), nets: new Map() };
  let i = 0;
  const value = (opt: string): string => {
    if (i + 1 >= argv.length) throw new UsageError(`${opt} needs a value (see solo5-virtio-run --help)`);
    return argv[++i];
  };
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-h' || a === '--help') p.help = true;
    else if (a === '--version') p.version = true;
    else if (a === '-q') p.quiet = true;
    else if (a === '-d') setOnce(p.blocks, undefined, value(a), '-d');
    else if (a === '-n') setOnce(p.nets, undefined, value(a), '-n');
    else if (a === '-m') p.memMiB = mem('-m', value(a));
    else if (a === '-H') p.accel = parseAccel('-H', value(a));
    else if (a.startsWith('--mem=')) p.memMiB = mem('--mem', a.slice(6));
    else if (a.startsWith('--accel=')) p.accel = parseAccel('--accel', a.slice(8));
    else if (/^--(block|net):[^=]+=/.test(a)) {
      const m = /^--(block|net):([^=]+)=(.*)$/s.exec(a)!;
      setOnce(m[1] === 'block' ? p.blocks : p.nets, m[2], m[3], `--${m[1]}:${m[2]}`);
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a} (see solo5-virtio-run --help)`);
    else break;
  }
  if (i < argv.length) {
    p.kernel = argv[i];
    p.args = argv.slice(i + 1);
  }
  return p;
}

/** Runs solo5-virtio-run with `argv` (without node and script); known errors become one line on stderr and exit 1. */
export async function main(argv: string[]): Promise<number> {
  const err = (s: string): void => void process.stderr.write(s);
  try {
    const p = parseVirtioRunArgs(argv);
    if (p.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (p.version) {
      process.stdout.write(`solo5-virtio-run ${version()}\n`);
      return 0;
    }
    if (p.kernel === undefined) throw new UsageError('no KERNEL given (see solo5-virtio-run --help)');
    const exit = await runVirtio({ ...p, kernel: p.kernel });
    return exit.status;
  } catch (e) {
    if (!isSolo5Error(e)) throw e;
    err(`solo5-virtio-run: ${oneLine(e.message)}\n`);
    return 1;
  }
}
