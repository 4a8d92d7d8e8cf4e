// tender-args.ts: parse the upstream-compatible tender command line into launch options.
import { invalidOption, UsageError, upstreamSays } from '../errors';
import { debugUsage, parseDebugArg, type DebugArgs } from '../hvt/options';
import { isLogLevel, type LogLevel } from '../log';
import { parseForwardSpec, type PasstForward } from '../net/passt-args';
import { BLOCK_SIZE_WORDS } from '../tender/devices';
import type { BlockAttach, LaunchOptions, NetAttach, Target } from '../tender/options';
import { quote } from '../quote';

export interface TenderArgs {
  help: boolean;
  version: boolean;
  /** Lines to print before the guest starts (upstream's warning for --x-exec-heap). */
  warnings: string[];
  logLevel: LogLevel;
  logFormat?: 'pretty' | 'json';
  launch: LaunchOptions;
  /** Device options as given, keyed `--KEY:NAME` (the last one given): for upstream's `Invalid option` line. */
  given: Map<string, string>;
}

/** A device module's options: `--KEY:NAME=VALUE`. Each module registers its own. */
interface DeviceOption {
  key: string;
  usage: string;
  apply(name: string, value: string, acc: Devices): void;
}

/* Keyed by user-given device names, so Maps: `--block:constructor=...` is just a device named constructor. */
interface Devices {
  block: Map<string, BlockAttach>;
  net: Map<string, NetAttach>;
  sectorSizes: Map<string, number>;
  macs: Map<string, string>;
  pcaps: Map<string, string>;
  forwards: Map<string, PasstForward[]>;
}

/** The value of --net:NAME=...: a tap (IFACE or @FD) or `unix:PATH`. */
function netBackend(name: string, value: string): NetAttach {
  if (!value.startsWith('unix:')) return { iface: value };
  const path = value.slice('unix:'.length);
  if (path === '') throw new UsageError(`--net:${name}=unix: needs the path of a socket (--net:${name}=unix:/run/x.sock)`);
  return { unix: path };
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

const deviceOptions: DeviceOption[] = [
  {
    key: 'net',
    usage:
      '--net:NAME=IFACE | @FD   attach net device NAME to tap IFACE (or an open tap fd)\n' +
      '  --net:NAME=unix:PATH     connect net device NAME to a framed stream socket (passt --socket,\n' +
      '                           QEMU -netdev stream, solo5-switch); MTU 1500\n' +
      '  --net:NAME=passt         start passt for net device NAME: user-mode networking, no root;\n' +
      '                           ARGS may hold {NAME.ipv4} {NAME.gateway} {NAME.dns}, filled in from passt',
    apply(name, value, acc) {
      acc.net.set(name, value === 'passt' ? { passt: true } : netBackend(name, value));
    },
  },
  {
    key: 'net-forward',
    usage: '--net-forward:NAME=tcp|udp:[HOSTADDR:]HOSTPORT:GUESTPORT  forward a host port to passt device NAME (repeatable)',
    apply(name, value, acc) {
      const list = acc.forwards.get(name) ?? [];
      list.push(parseForwardSpec(`--net-forward:${name}`, value));
      acc.forwards.set(name, list);
    },
  },
  {
    key: 'net-mac',
    usage: '--net-mac:NAME=HWADDR    MAC address of net device NAME (default: generated)',
    apply(name, value, acc) {
      if (!MAC_RE.test(value)) throw new UsageError(`--net-mac:${name}: '${quote(value)}' is not a MAC address like 02:00:00:00:00:01`);
      acc.macs.set(name, value.toLowerCase());
    },
  },
  {
    key: 'net-pcap',
    usage: '--net-pcap:NAME=FILE     capture every frame of net device NAME to a pcap file',
    apply(name, value, acc) {
      acc.pcaps.set(name, value);
    },
  },
  {
    key: 'block',
    usage: '--block:NAME=PATH        attach block device NAME to the raw image at PATH',
    apply(name, value, acc) {
      acc.block.set(name, { path: value });
    },
  },
  {
    key: 'block-sector-size',
    usage: '--block-sector-size:NAME=N  block size of device NAME in bytes (power of two >= 512; default 512)',
    apply(name, value, acc) {
      if (!/^[0-9]+$/.test(value))
        throw upstreamSays(
          new UsageError(`--block-sector-size:${name}: '${quote(value)}' is not a number`),
          `${BLOCK_SIZE_WORDS}\n${invalidOption(quote(`--block-sector-size:${name}=${value}`))}`,
        );
      acc.sectorSizes.set(name, Number(value));
    },
  },
];

const NAME_RE = /^[A-Za-z0-9]{1,67}$/;

/** Upstream's words for --x-exec-heap, which upstream's tender honours by making guest memory executable. */
const X_EXEC_HEAP_WARNING = 'WARNING: The use of --x-exec-heap is dangerous and not recommended as it makes the heap and stack executable.';
const X_EXEC_HEAP_HERE =
  '--x-exec-heap: accepted, but the heap and stack stay non-executable here: no guest memory is both writable and executable';

export function usage(tool: string, target: Target): string {
  return [
    `usage: ${tool} [OPTIONS] [--] KERNEL [ARGS...]`,
    '',
    `Run the Solo5 unikernel KERNEL (built for ${target}) with the guest command line ARGS.`,
    '',
    'Core options:',
    '  --mem=MB                 guest memory in MiB (default 512)',
    '  --user=NAME|UID[:GID]    run as root: the guest drops to this user (default nobody)',
    '  --affinity=none|auto     auto: a tap/stream-only guest shares one CPU with its pump (default none)',
    '  --log-level=LEVEL        tender log level: trace, debug, info, warn (default), error, silent',
    '  --log-format=FORMAT      pretty (default on a terminal) or json',
    ...(target === 'spt'
      ? [
          '  --x-exec-heap            accepted for upstream compatibility, with its warning; the heap and stack stay',
          '                           non-executable here (docs/behaviour.md)',
        ]
      : []),
    '  --help                   print this help on stderr and exit with status 1 (as upstream)',
    '  --version                print the version on stderr and exit',
    '',
    'Device options (every device the manifest declares must be attached):',
    ...deviceOptions.map((d) => `  ${d.usage}`),
    '',
    ...debugUsage(target),
    '',
    ...(target === 'spt'
      ? [
          "Exit status: the guest's status & 0xff; 255 when the guest aborts; 128+N when it",
          'is killed by signal N (139 SIGSEGV, 159 SIGSYS for a forbidden system call);',
        ]
      : [
          "Exit status: the guest's status & 0xff; 255 when the guest aborts, including on a",
          'CPU exception (its name and registers are printed first) or a broken hypercall;',
        ]),
    "1 when the tender cannot start it (the reason is printed: upstream's words where scripts",
    'look for them, then the reason on its own line).',
    ...(target === 'spt'
      ? [
          'A Solo5-ABI guest whose devices are taps and block files only becomes this process',
          "(same pid; a fatal signal ends it as it ends the guest); a brokered guest's tender ends",
          "by the guest's fatal signal after cleaning up.",
        ]
      : []),
  ].join('\n');
}

/** Parse argv (without node and script). Throws UsageError with a one-line reason. */
export function parseTenderArgs(argv: readonly string[], target: Target): TenderArgs {
  const devices: Devices = {
    block: new Map(),
    net: new Map(),
    sectorSizes: new Map(),
    macs: new Map(),
    pcaps: new Map(),
    forwards: new Map(),
  };
  let user: string | undefined;
  let affinity: 'auto' | 'none' | undefined;
  let memMB: number | undefined;
  let logLevel: LogLevel = 'warn';
  let logFormat: 'pretty' | 'json' | undefined;
  const warnings: string[] = [];
  // Upstream's first pass: --help and --version act before any other option is looked at.
  for (const arg of argv) {
    if (arg === '--' || !arg.startsWith('-')) break;
    if (arg === '--help' || arg === '-h')
      return { help: true, version: false, warnings, logLevel, launch: { kernel: '' }, given: new Map() };
    if (arg === '--version') return { help: false, version: true, warnings, logLevel, launch: { kernel: '' }, given: new Map() };
  }
  const debug: DebugArgs = {};
  const given = new Map<string, string>();
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('--')) break;
    const eq = arg.indexOf('=');
    const key = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const value = eq < 0 ? undefined : arg.slice(eq + 1);
    if (key === 'mem') {
      if (value === undefined || !/^[0-9]+$/.test(value) || Number(value) === 0)
        throw upstreamSays(new UsageError(`--mem: '${quote(value ?? '')}' is not a size in MiB`), 'Malformed argument to --mem');
      memMB = Number(value);
      continue;
    }
    if (arg === '--x-exec-heap' && target === 'spt') {
      warnings.push(X_EXEC_HEAP_WARNING, X_EXEC_HEAP_HERE);
      continue;
    }
    if (key === 'user') {
      if (value === undefined || value === '') throw new UsageError('--user: a user name, UID or UID:GID is required (--user=nobody)');
      user = value;
      continue;
    }
    if (key === 'affinity') {
      if (value !== 'auto' && value !== 'none') throw new UsageError(`--affinity: '${quote(value ?? '')}' is not auto or none`);
      affinity = value;
      continue;
    }
    if (key === 'log-level') {
      if (value === undefined || !isLogLevel(value))
        throw new UsageError(`--log-level: '${quote(value ?? '')}' is not one of trace, debug, info, warn, error, silent`);
      logLevel = value;
      continue;
    }
    if (key === 'log-format') {
      if (value !== 'pretty' && value !== 'json') throw new UsageError(`--log-format: '${quote(value ?? '')}' is not pretty or json`);
      logFormat = value;
      continue;
    }
    if (parseDebugArg(key, value, target, debug)) continue;
    const colon = key.indexOf(':');
    const dev = deviceOptions.find((d) => colon > 0 && d.key === key.slice(0, colon));
    if (!dev)
      throw upstreamSays(
        new UsageError(`unknown option ${quote(eq < 0 ? arg : arg.slice(0, eq))} (see --help)`),
        invalidOption(quote(arg)),
      );
    const name = key.slice(colon + 1);
    if (!NAME_RE.test(name)) throw new UsageError(`--${dev.key}: '${quote(name)}' is not a device name (1 to 67 letters and digits)`);
    if (value === undefined || value === '') throw new UsageError(`--${dev.key}:${name}: a value is required (--${dev.key}:${name}=VALUE)`);
    dev.apply(name, value, devices);
    given.set(`--${dev.key}:${name}`, arg);
  }
  if (i >= argv.length) throw upstreamSays(new UsageError('missing KERNEL (see --help)'), 'Missing KERNEL operand');
  const kernel = argv[i];
  for (const [name, size] of devices.sectorSizes) {
    const b = devices.block.get(name);
    if (!b) throw new UsageError(`--block-sector-size:${name}: no --block:${name}=PATH to apply it to`);
    b.sectorSize = size;
  }
  for (const [name, mac] of devices.macs) {
    const n = devices.net.get(name);
    if (!n) throw new UsageError(`--net-mac:${name}: no --net:${name}=IFACE to apply it to`);
    n.mac = mac;
  }
  for (const [name, forwards] of devices.forwards) {
    const n = devices.net.get(name);
    if (!n?.passt) throw new UsageError(`--net-forward:${name}: no --net:${name}=passt to apply it to`);
    n.passt = { forwards };
  }
  for (const [name, file] of devices.pcaps) {
    const n = devices.net.get(name);
    if (!n) throw new UsageError(`--net-pcap:${name}: no --net:${name}=IFACE to apply it to`);
    n.pcap = file;
  }
  return {
    help: false,
    version: false,
    warnings,
    logLevel,
    logFormat,
    launch: {
      kernel,
      args: argv.slice(i + 1),
      memMB,
      target,
      console: 'inherit',
      block: devices.block,
      net: devices.net,
      user,
      affinity,
      ...debug,
    },
    given,
  };
}
