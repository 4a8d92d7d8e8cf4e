// tender-args.test.ts: the tender's command-line parsing, table-driven.
import t from 'tap';
import { parseTenderArgs, usage } from '../lib/cli/tender-args';
import { UsageError } from '../lib/errors';

function mapOf<T>(v: Record<string, T> | ReadonlyMap<string, T> | undefined): Map<string, T> {
  return v instanceof Map ? new Map<string, T>(v) : new Map<string, T>(Object.entries(v ?? {}));
}

t.test('accepted command lines', async (tt) => {
  const cases: [string[], object][] = [
    [['k.spt'], { kernel: 'k.spt', args: [], memMB: undefined }],
    [['--mem=64', 'k.spt', 'a', '--b'], { kernel: 'k.spt', args: ['a', '--b'], memMB: 64 }],
    [['--', '--weird-name', 'x'], { kernel: '--weird-name', args: ['x'] }],
    [['--block:disk=/tmp/d.img', '--block-sector-size:disk=4096', 'k'], { block: { disk: { path: '/tmp/d.img', sectorSize: 4096 } } }],
    [['--net:service=tap0', '--net-mac:service=02:AB:00:00:00:01', 'k'], { net: { service: { iface: 'tap0', mac: '02:ab:00:00:00:01' } } }],
    [['--net:service=@3', 'k'], { net: { service: { iface: '@3' } } }],
  ];
  for (const [argv, want] of cases) {
    const a = parseTenderArgs(argv, 'spt');
    // Devices come back as Maps; compare them as plain objects.
    const l = a.launch;
    const plain = { ...l, block: Object.fromEntries(mapOf(l.block)), net: Object.fromEntries(mapOf(l.net)) };
    tt.match(plain, want, argv.join(' '));
    tt.equal(a.launch.console, 'inherit', 'the CLI passes the console through');
  }
  tt.equal(parseTenderArgs(['--log-level=debug', 'k'], 'spt').logLevel, 'debug');
  tt.equal(parseTenderArgs(['--log-format=json', 'k'], 'spt').logFormat, 'json');
  tt.equal(parseTenderArgs(['--user=nobody', 'k'], 'spt').launch.user, 'nobody');
  tt.equal(parseTenderArgs(['k'], 'spt').launch.user, undefined, 'no --user: the launch default applies');
  tt.equal(parseTenderArgs(['--help'], 'spt').help, true);
  tt.equal(parseTenderArgs(['--version', 'k'], 'spt').version, true);
});

t.test('refused command lines name the option at fault', async (tt) => {
  const cases: [string[], RegExp][] = [
    [[], /missing KERNEL/],
    [['--mem=64'], /missing KERNEL/],
    [['--mem=lots', 'k'], /--mem: 'lots' is not a size/],
    [['--mem', 'k'], /--mem: '' is not a size/],
    [['--frobnicate', 'k'], /unknown option --frobnicate/],
    [['--frob=1', 'k'], /unknown option --frob \(see --help\)/],
    [['--block:=x', 'k'], /'' is not a device name/],
    [['--block:bad-name=x', 'k'], /'bad-name' is not a device name/],
    [['--block:disk', 'k'], /--block:disk: a value is required/],
    [['--block-sector-size:disk=4096', 'k'], /no --block:disk=PATH/],
    [['--block:disk=x', '--block-sector-size:disk=big', 'k'], /'big' is not a number/],
    [['--net-mac:n0=02:00:00:00:00:01', 'k'], /no --net:n0=IFACE/],
    [['--net:n0=tap0', '--net-mac:n0=zz', 'k'], /'zz' is not a MAC address/],
    [['--user=', 'k'], /--user: a user name, UID or UID:GID is required/],
    // Names that are Object.prototype properties are device names like any other (issue 8 item 8).
    [['--block-sector-size:toString=4096', 'k'], /--block-sector-size:toString: no --block:toString=PATH/],
    [['--block-sector-size:constructor=4096', 'k'], /--block-sector-size:constructor: no --block:constructor=PATH/],
    [['--net-mac:constructor=02:00:00:00:00:01', 'k'], /--net-mac:constructor: no --net:constructor=IFACE/],
    [['--net-pcap:hasOwnProperty=/tmp/x', 'k'], /--net-pcap:hasOwnProperty: no --net:hasOwnProperty=IFACE/],
    [['--log-level=loud', 'k'], /--log-level: 'loud'/],
    [['--log-format=xml', 'k'], /--log-format: 'xml'/],
  ];
  for (const [argv, re] of cases) {
    tt.throws(() => parseTenderArgs(argv, 'spt'), UsageError, argv.join(' '));
    try {
      parseTenderArgs(argv, 'spt');
    } catch (e) {
      tt.match((e as Error).message, re, argv.join(' '));
      tt.notMatch((e as Error).message, /\n/, 'one line');
    }
  }
});

t.test('usage lists every option', async (tt) => {
  const u = usage('solo5-spt', 'spt');
  for (const o of [
    '--mem=MB',
    '--net:NAME',
    '--net-mac:NAME',
    '--block:NAME',
    '--block-sector-size:NAME',
    '--help',
    '--version',
    '--log-level',
  ]) {
    tt.match(u, o);
  }
});

t.test('device names that are Object.prototype properties are ordinary names', async (tt) => {
  for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
    const a = parseTenderArgs([`--block:${name}=/tmp/d.img`, `--block-sector-size:${name}=4096`, `--net:${name}=tap0`, 'k'], 'spt');
    tt.same(mapOf(a.launch.block).get(name), { path: '/tmp/d.img', sectorSize: 4096 }, `--block:${name}`);
    tt.same(mapOf(a.launch.net).get(name), { iface: 'tap0' }, `--net:${name}`);
    tt.equal(mapOf(a.launch.block).size, 1, 'nothing else appears');
  }
  // __proto__ is not a valid device name ([A-Za-z0-9]), so it is refused before any lookup.
  tt.throws(() => parseTenderArgs(['--block:__proto__=/tmp/d.img', 'k'], 'spt'), /'__proto__' is not a device name/);
  tt.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was touched');
});
