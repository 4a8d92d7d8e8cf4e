// shipped.test.ts: what npm ci builds and ships carries no test hook: addon exports, binaries' strings, environment variables (issue 8 item 4).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { KVM_SET_GUEST_DEBUG } from '../lib/hvt/policy';
import { debugHelperPath, helperPath, native, type BrokerHandle, type NativeAddon } from '../lib/native';
import type { SwitchdNative } from '../lib/switchd/native';
import { root } from './support/paths';

/*
 * Every export of the shipped addon, reviewed, with what uses it. The type ties the list to the
 * typed interfaces (lib/native.ts, lib/switchd/native.ts): a name added there fails to compile
 * until it is added here; a name exported by the addon but missing here fails the test.
 */
const reviewedExports: Record<keyof NativeAddon | keyof SwitchdNative, string> = {
  memfdCreate: 'guest memory and the load plan (lib/tender/launch.ts)',
  memfdDataRanges: '--dumpcore: the core skips untouched guest pages (lib/hvt/core.ts)',
  spawnHelper: 'exec of the static helper (lib/tender/spawn.ts)',
  setChildPidNs: "a container's pid namespace, around the spawn of its first process (lib/oci/pidns.ts)",
  getRandom64: 'the boot info random seed (lib/tender/launch.ts, solo5.ts)',
  execHelperInPlace: 'the CLI becoming its guest (lib/tender/launch.ts prepareForCli)',
  dieBySignal: "the CLI ending by its brokered guest's fatal signal (lib/cli/tender.ts)",
  strerror: "errno values in glibc's words in the CLIs' messages (lib/errors.ts)",
  layout: 'ABI struct layout as compiled, checked against lib/abi.ts',
  createGuestBroker: 'the device broker (lib/tender/launch.ts)',
  createSwitch: 'VirtualSwitch (lib/devices/switch.ts)',
  switchAddEndpoint: 'VirtualSwitch endpoints',
  switchSend: 'VirtualSwitch endpoints',
  switchRemoveEndpoint: 'VirtualSwitch endpoints',
  destroySwitch: 'VirtualSwitch',
  switchCounters: 'VirtualSwitch counters',
  kvmProbe: "solo5-virtio-run's choice of KVM or TCG (lib/virtio/kvm-probe.ts)",
  openTap: '--net:NAME=IFACE',
  tapFromFd: '--net:NAME=@FD',
  socketpairSeqpacket: 'Solo5-ABI guests: their net device socket',
  socketpairStream: 'passt --fd',
  unixConnect: '--net:NAME=unix:PATH',
  openPty: 'solo5-oci terminal',
  sendFd: 'solo5-oci --console-socket',
  setControllingTty: 'solo5-oci terminal',
  openGate: "solo5-oci's start gate",
  execFile: 'solo5-oci hands a container that is not a unikernel to runc (lib/oci/delegate.ts)',
  switchdStart: 'solo5-switch daemon',
  switchdStop: 'solo5-switch daemon',
  switchdStats: 'solo5-switch daemon',
  SWITCHD_DEFAULT_MAX_PORTS: "solo5-switch's default --max-ports, compared with lib/switchd/daemon.ts",
  SWITCHD_MAX_PORTS_LIMIT: "solo5-switch's largest --max-ports, compared with lib/switchd/daemon.ts",
};

/** The methods of a broker handle, reviewed as above (lib/native.ts BrokerHandle). */
const reviewedHandle: Record<keyof Omit<BrokerHandle, 'ringsSize' | 'doorbellFds' | 'hvtKickFd'>, string> = {
  start: 'start the pump',
  stop: 'release everything',
  drain: 'the look at the rings after the guest exits',
  counters: 'device counters',
};

/** Names of the methods an object answers to, own and inherited (not Object's). */
function methodsOf(o: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = o; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k !== 'constructor' && typeof (o as Record<string, unknown>)[k] === 'function') names.add(k);
    }
  }
  return [...names].sort();
}

t.test('the shipped addon exports exactly the reviewed names', async (tt) => {
  // native() is how the tender loads it: build/Release (or Debug)/solo5_node.node, nothing else.
  const addon = native();
  tt.strictSame(Object.keys(addon).sort(), Object.keys(reviewedExports).sort(), 'exports (a new one must be reviewed and listed here)');
  tt.strictSame(Object.keys(addon.layout).sort(), ['constants', 'offsets', 'sizes'], 'layout is data only');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-shipped-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'disk');
  fs.writeFileSync(file, Buffer.alloc(64 * 1024));
  const diskFd = fs.openSync(file, 'r+');
  const memFd = addon.memfdCreate('sn-shipped', 8 << 20);
  const h = addon.createGuestBroker(
    {
      memFd,
      memSize: 8 << 20,
      ringsAddr: 1 << 20,
      devices: [{ index: 1, name: 'disk', kind: 'block', fd: diskFd, capacity: 64 * 1024, blockSize: 512 }],
    },
    () => {},
  );
  tt.teardown(() => {
    h.stop();
    fs.closeSync(memFd);
    fs.closeSync(diskFd);
  });
  tt.strictSame(methodsOf(h), Object.keys(reviewedHandle).sort(), 'a broker handle answers to the reviewed methods only');
});

/** Files under dir (recursively) whose name passes `want`. */
function filesUnder(dir: string, want: (name: string) => boolean): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => want(f))
    .map((f) => path.join(dir, f));
}

/*
 * Names only the test addon defines: its exports and class (from test/native/*.cc, so a hook
 * added there is covered too), its entry points' C++ names, its module and file names, and the
 * names the hooks had while they lived in the shipped addon.
 */
function testOnlyNames(): string[] {
  const dir = path.join(root, 'test', 'native');
  const names = new Set(['sn_test', 'fake_guest', 'fake_hostile', 'fake_bench', 'fake_stream', 'SOLO5_KVM_DEVICE']);
  for (const old of ['debugMapRead', 'debugMapWrite', 'debugHostile', 'debugBenchSwitch', 'debugBenchBlock', 'debugBenchFloor'])
    names.add(old);
  for (const f of filesUnder(dir, (n) => n.endsWith('.cc'))) {
    const src = fs.readFileSync(f, 'utf8');
    for (const m of src.matchAll(/exports\.Set\("(\w+)"|DefineClass\(env, "(\w+)"|^Napi::Value (\w+)\(const Napi::CallbackInfo/gm)) {
      names.add(m[1] ?? m[2] ?? m[3]);
    }
  }
  return [...names].sort();
}

const identChar = (b: number | undefined) => b !== undefined && /[A-Za-z0-9_]/.test(String.fromCharCode(b));

/**
 * Whether a binary holds `name` as a whole identifier: a string or C symbol (no identifier
 * character either side), or a C++ mangled name (its length, then the name). A longer name
 * that starts with it (StreamDecoder for StreamDecode) does not count.
 */
function holds(bytes: Buffer, name: string): boolean {
  if (bytes.includes(`${name.length}${name}`)) return true;
  for (let i = bytes.indexOf(name); i >= 0; i = bytes.indexOf(name, i + 1)) {
    if (!identChar(bytes[i - 1]) && !identChar(bytes[i + name.length])) return true;
  }
  return false;
}

const shippedBinaries = [
  path.join(root, 'build', 'Release', 'solo5_node.node'),
  helperPath,
  path.join(root, 'addon', 'oci', 'build', 'solo5-oci'),
  path.join(root, 'addon', 'oci', 'build', 'solo5-oci-init'),
];

t.test('no test-only name is in the shipped addon, the helper, the solo5-oci front or its init', async (tt) => {
  const names = testOnlyNames();
  // The names must really come from the test sources (an empty list would pass anything).
  for (const n of ['mapGuest', 'GuestMap', 'hostile', 'Hostile', 'benchSwitch', 'benchBlock', 'benchFloor', 'streamDecode', 'MapGuest']) {
    tt.ok(names.includes(n), `test/native defines ${n}`);
  }
  for (const file of shippedBinaries) {
    const bytes = fs.readFileSync(file);
    const found = names.filter((n) => holds(bytes, n));
    tt.strictSame(found, [], `${path.relative(root, file)} holds none of the test addon's names`);
  }
  tt.ok(holds(fs.readFileSync(shippedBinaries[0]), 'createGuestBroker'), 'the scan finds a real export name in the shipped addon');
});

const testAddon = path.join(root, 'test', 'native', 'build', 'Release', 'sn_test.node');
t.test(
  'the same scan finds every name in the test addon, where they do live',
  { skip: !fs.existsSync(testAddon) && `${path.relative(root, testAddon)} is not built (npm run build:test-addon)` },
  async (tt) => {
    const inTest = fs.readFileSync(testAddon);
    tt.strictSame(
      testOnlyNames().filter((n) => !holds(inTest, n) && !/^(debug|fake_|SOLO5_)/.test(n)),
      [],
      'so it would find them in a shipped file too',
    );
  },
);

/*
 * The only environment variables shipped code reads, and why. Anything else (above all a
 * variable meant for tests, like the former SOLO5_KVM_DEVICE) fails until it is reviewed here.
 */
const allowedEnv: Record<string, string> = {
  NODE_OPTIONS: 'removed, never read: no node process the CLIs start inherits it (lib/cli/signals.ts)',
  PATH: 'finding passt and qemu-system-x86_64 as a shell would, and the only variable mtools gets (lib/net/passt.ts, lib/virtio/kvm-probe.ts, lib/virtio/mkimage.ts)',
  XDG_RUNTIME_DIR: "solo5-oci's default state root when not root, as runc's (lib/oci/state.ts, addon/oci/oci_front.c)",
};

/** Each read of the environment in JavaScript, as `file: NAME` (`file: ?` when the name is computed). */
function envReadsJs(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(
    /\bprocess\s*\.\s*env\b(?:\s*\.\s*(\w+)|\s*\[\s*['"`](\w+)['"`]\s*\])?|\bprocess\s*\[|\{[^{}]*\benv\b[^{}]*\}\s*=\s*process\b/g,
  )) {
    out.push(`${path.relative(root, file)}: ${m[1] ?? m[2] ?? '?'}`);
  }
  return out;
}

/** Each getenv in C/C++ sources, as `file: NAME` (`file: ?` when the name is not a literal). */
function envReadsC(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/\b(?:secure_)?getenv\s*\(\s*(?:"(\w+)")?|\benviron\b/g))
    out.push(`${path.relative(root, file)}: ${m[1] ?? '?'}`);
  return out;
}

t.test('shipped code reads only the reviewed environment variables', async (tt) => {
  const js = ['dist/lib', 'dist/bin'].flatMap((d) => filesUnder(path.join(root, d), (n) => n.endsWith('.js')));
  const c = filesUnder(path.join(root, 'addon'), (n) => /\.(c|cc|h)$/.test(n) && !n.split(path.sep).includes('build'));
  tt.ok(js.length > 20 && c.length > 10, `the scan covers the compiled JS (${js.length} files) and the addon sources (${c.length})`);
  const reads = [...js.flatMap(envReadsJs), ...c.flatMap(envReadsC)];
  const names = new Set(reads.map((r) => r.slice(r.lastIndexOf(' ') + 1)));
  tt.strictSame(
    reads.filter((r) => !(r.slice(r.lastIndexOf(' ') + 1) in allowedEnv)),
    [],
    'every variable read is in the allowlist (a computed name is never)',
  );
  // Both directions: a variable no longer read leaves the list.
  tt.strictSame([...names].sort(), Object.keys(allowedEnv).sort(), 'every allowed variable is still read somewhere');
  tt.notOk(
    reads.some((r) => r.includes('SOLO5_')),
    'no SOLO5_* variable',
  );
});

/* The debug features (docs/debugging.md) are in solo5-helper-debug only: conventions-new-rooms.md 1.4. */
t.test('the default helper has no gdb stub, debug channel or guest-debug ioctl; solo5-helper-debug has them', async (tt) => {
  const le32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  const marks = ['qSupported', 'set up the debug channel', 'stop for the debugger'];
  const plain = fs.readFileSync(helperPath);
  tt.strictSame(
    marks.filter((m) => plain.includes(m)),
    [],
    'no RSP or debug-channel strings in the default helper',
  );
  tt.notOk(plain.includes(le32(KVM_SET_GUEST_DEBUG)), 'no KVM_SET_GUEST_DEBUG in the default helper');
  tt.ok(plain.includes('this helper has no debug features'), 'it refuses a debug plan in its own words');
  const debug = fs.readFileSync(debugHelperPath);
  tt.ok(debug.includes('set up the debug channel'), 'the scan finds the debug channel in solo5-helper-debug');
  tt.ok(debug.includes(le32(KVM_SET_GUEST_DEBUG)), 'and its KVM_SET_GUEST_DEBUG');
  tt.notOk(debug.includes('qSupported'), 'the remote protocol is parsed in the tender, not in either helper');
});
