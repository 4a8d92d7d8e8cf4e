// virtio.test.ts: QEMU's argv builder, the exit table, the accelerator choice, and virtio guests run under TCG by solo5-virtio-run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { parseVirtioRunArgs } from '../lib/cli/virtio-run';
import { ConsoleWatch, classifyVirtioExit } from '../lib/virtio/exit';
import { chooseAccel, describeKvmProbe, findQemu, KVM_DEVICE, kvmUnusable } from '../lib/virtio/kvm-probe';
import { clusterSectors, mbr, syslinuxConfig } from '../lib/virtio/mkimage';
import { qemuArgv, qemuValue, type QemuConfig } from '../lib/virtio/qemu-args';
import { compareTargets } from '../lib/compare';
import { kvmUnavailable } from './support/kvm';
import { app, root } from './support/paths';
import { tapNamespace, tapSkip } from './support/tapns';
import { qemuUnavailable, virtioApp } from './support/qemu';
import { behaviour } from './support/behaviour';
import { runVirtio } from '../lib/virtio/run';

const cli = path.join(root, 'dist', 'bin', 'solo5-virtio-run.js');
const mkimage = path.join(root, 'dist', 'bin', 'solo5-virtio-mkimage.js');
const virtio = virtioApp;

const base: QemuConfig = { kernel: '/k/hello.virtio', cmdline: '', memMiB: 64, accel: 'tcg', devices: [] };
const FIXED = ['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-machine', 'pc'];

t.test('each device renders its own argv', async (tt) => {
  const one = (d: QemuConfig['devices'][number]) => qemuArgv({ ...base, devices: [d] });
  tt.same(one({ kind: 'serial-stdio' }).argv.slice(13, 15), ['-serial', 'stdio']);
  tt.same(one({ kind: 'debug-exit' }).argv.slice(13, 15), ['-device', 'isa-debug-exit']);
  tt.same(one({ kind: 'block-file', path: '/d/a,b=c.img', slot: 3 }).argv.slice(13, 17), [
    '-drive',
    'file=/d/a,,b=c.img,if=none,id=blk0,format=raw',
    '-device',
    'virtio-blk-pci,drive=blk0,addr=0x3',
  ]);
  const net = one({ kind: 'net-tap', fd: 17, mac: '52:54:00:12:34:57', slot: 4 });
  tt.same(net.argv.slice(13, 17), ['-netdev', 'tap,id=net0,fd=3', '-device', 'virtio-net-pci,netdev=net0,mac=52:54:00:12:34:57,addr=0x4']);
  tt.same(net.fds, [17], 'the fd QEMU is told about is the one passed');
  const stream = one({ kind: 'net-stream', fd: 21, mac: '02:00:00:00:00:02', slot: 3 });
  tt.same(stream.argv.slice(13, 17), [
    '-netdev',
    'stream,id=net0,addr.type=fd,addr.str=3',
    '-device',
    'virtio-net-pci,netdev=net0,mac=02:00:00:00:00:02,addr=0x3',
  ]);
  tt.same(stream.fds, [21], 'a switch port is an inherited fd too');
  tt.throws(() => one({ kind: 'net-tap', fd: 3, mac: 'nope', slot: 4 }), /MAC address 'nope'/);
  tt.throws(() => one({ kind: 'block-file', path: '/x', slot: 32 }), /PCI slot 32 is outside 2\.\.31/);
  tt.throws(() => one({ kind: 'block-file', path: '/x\ny', slot: 3 }), /disk image path: a newline/);
});

t.test('a whole command: fixed flags, accelerator and CPU, devices in order, kernel, command line', async (tt) => {
  const { argv, fds } = qemuArgv({
    ...base,
    accel: 'kvm',
    cmdline: 'a,b c',
    devices: [
      { kind: 'serial-stdio' },
      { kind: 'debug-exit' },
      { kind: 'net-tap', fd: 9, mac: '52:54:00:12:34:57', slot: 3 },
      { kind: 'net-tap', fd: 8, mac: '52:54:00:12:34:58', slot: 4 },
    ],
  });
  tt.same(argv, [
    ...FIXED,
    '-accel',
    'kvm',
    '-cpu',
    'host,-arch-capabilities',
    '-m',
    '64',
    '-serial',
    'stdio',
    '-device',
    'isa-debug-exit',
    '-netdev',
    'tap,id=net2,fd=3',
    '-device',
    'virtio-net-pci,netdev=net2,mac=52:54:00:12:34:57,addr=0x3',
    '-netdev',
    'tap,id=net3,fd=4',
    '-device',
    'virtio-net-pci,netdev=net3,mac=52:54:00:12:34:58,addr=0x4',
    '-kernel',
    '/k/hello.virtio',
    '-append',
    'a,b c',
  ]);
  tt.same(fds, [9, 8]);
  tt.equal(qemuArgv(base).argv.includes('-append'), false, 'no -append for an empty command line');
  tt.equal(qemuArgv(base).argv[qemuArgv(base).argv.indexOf('-cpu') + 1], 'max', 'TCG gets the max model');
  tt.throws(() => qemuArgv({ ...base, memMiB: 1 }), /memory 1 MiB/);
});

/* QEMU's reading of an option list: a doubled comma is a comma, a single one separates. */
function qemuSplit(s: string): string[] {
  const out = [''];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ',' && s[i + 1] === ',') {
      out[out.length - 1] += ',';
      i++;
    } else if (s[i] === ',') out.push('');
    else out[out.length - 1] += s[i];
  }
  return out;
}

t.test('qemuValue: a split on single commas gives back every value (seeded)', async (tt) => {
  const seed = Number(process.env.SEED ?? Date.now() % 100000);
  tt.comment(`SEED=${seed}`);
  let x = seed;
  const rnd = (n: number) => ((x = (x * 1103515245 + 12345) % 2147483648), (x >>> 16) % n);
  for (let round = 0; round < 200; round++) {
    const values = Array.from({ length: 1 + rnd(4) }, () => Array.from({ length: rnd(8) }, () => ',=a'[rnd(3)]).join(''));
    const joined = values.map((v, i) => `k${i}=${qemuValue('v', v)}`).join(',');
    tt.same(
      qemuSplit(joined).map((kv) => kv.slice(kv.indexOf('=') + 1)),
      values,
      `round ${round}: ${JSON.stringify(values)}`,
    );
  }
  tt.throws(() => qemuValue('v', 'a\0b'), /NUL/);
});

t.test('exit table: QEMU status, signal sent and the console line to the launcher status', async (tt) => {
  const rows: [number | null, NodeJS.Signals | null, NodeJS.Signals | undefined, number | undefined, string, string, number][] = [
    [83, null, undefined, 0, '', 'exit', 0],
    [83, null, undefined, 7, '', 'exit', 7],
    [83, null, undefined, 255, '', 'exit', 255],
    [83, null, undefined, undefined, '', 'unknown', 0],
    [5, null, undefined, undefined, '', 'exit', 2],
    [0, null, undefined, undefined, '', 'powered-off', 0],
    [0, null, 'SIGTERM', undefined, '', 'signal', 143],
    [0, null, 'SIGINT', 3, '', 'signal', 130],
    [1, null, undefined, undefined, 'qemu-system-x86_64: -kernel x: No such file\n', 'qemu-error', 1],
    [134, null, undefined, undefined, 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n', 'qemu-error', 1],
    [null, 'SIGKILL', undefined, undefined, '', 'qemu-error', 1],
  ];
  for (const [code, signal, sent, line, stderr, kind, status] of rows) {
    const e = classifyVirtioExit(code, signal, sent, line, stderr);
    tt.same([e.kind, e.status], [kind, status], `QEMU ${code}/${signal}, sent ${sent}, console ${line}`);
  }
  const err = classifyVirtioExit(1, null, undefined, undefined, 'qemu-system-x86_64: -kernel x: No such file\nmore\n');
  tt.same(err, { kind: 'qemu-error', status: 1, error: '-kernel x: No such file' });
  tt.match(classifyVirtioExit(null, 'SIGKILL', undefined, undefined, ''), { error: 'QEMU was killed by SIGKILL' });
});

t.test('the console watch finds the status line across chunks, the last one wins', async (tt) => {
  const w = new ConsoleWatch();
  w.feed(Buffer.from('hello\nSolo5: solo5_exi'));
  tt.equal(w.status, undefined);
  w.feed(Buffer.from('t(300) called\r\n'));
  tt.equal(w.status, 300 & 0xff);
  w.feed(Buffer.from('Solo5: ABORT: trap\n'));
  tt.equal(w.status, 255);
  w.feed(Buffer.from('x Solo5: solo5_exit(1) called\n'));
  tt.equal(w.status, 255, 'only whole lines count');
});

t.test('accelerator choice', async (tt) => {
  const warns: string[] = [];
  const warn = (l: string) => void warns.push(l);
  tt.equal(chooseAccel('tcg', undefined, undefined, warn), 'tcg');
  tt.equal(chooseAccel('auto', undefined, undefined, warn), 'kvm');
  tt.equal(chooseAccel('kvm', undefined, 'PVM', warn), 'kvm', '-H kvm is obeyed on a slow KVM');
  tt.equal(warns.length, 0);
  tt.equal(chooseAccel('auto', 'no /dev/kvm', undefined, warn), 'tcg');
  tt.equal(chooseAccel('auto', undefined, 'PVM', warn), 'tcg');
  tt.same(warns, ['KVM unusable (no /dev/kvm); using TCG', 'KVM slower than TCG here (PVM); using TCG']);
  tt.throws(() => chooseAccel('kvm', 'no /dev/kvm', undefined, warn), /KVM unusable: no \/dev\/kvm/);
});

t.test('the KVM probe: each failing step named, a device that is not KVM refused, no fd left open', async (tt) => {
  const openFds = () => fs.readdirSync('/proc/self/fd').length;
  const before = openFds();
  tt.match(kvmUnusable('/nonexistent/kvm'), /^no \/nonexistent\/kvm \(KVM not loaded, or no virtualization\)$/);
  tt.equal(kvmUnusable('/dev/null'), '/dev/null is not a KVM device (KVM_GET_API_VERSION: ENOTTY)', 'opens, but is no hypervisor');
  // The host's own device: whatever it answers, the probe gives an answer and closes what it opened.
  for (let i = 0; i < 20; i++) {
    kvmUnusable('/dev/null');
    kvmUnusable(KVM_DEVICE);
  }
  tt.equal(openFds(), before, 'every fd the probe opened is closed again');
  // Steps no device on this host can be made to refuse safely: the reasons the runner prints for them.
  const cases: [Parameters<typeof describeKvmProbe>[1], string | undefined][] = [
    [{ ok: true, apiVersion: 12 }, undefined],
    [{ ok: false, step: 'open', code: 'EACCES' }, 'no permission to open /dev/kvm (not in the kvm group)'],
    [{ ok: false, step: 'open', code: 'EBUSY' }, '/dev/kvm cannot be opened (EBUSY)'],
    [{ ok: false, step: 'KVM_GET_API_VERSION', code: 'version 11' }, '/dev/kvm speaks KVM API version 11, not 12'],
    [
      { ok: false, step: 'KVM_CREATE_VM', code: 'EBUSY' },
      "/dev/kvm refuses to create a VM (KVM_CREATE_VM: EBUSY; is another hypervisor using the CPU's virtualization?)",
    ],
    [{ ok: false, step: 'KVM_CREATE_VCPU', code: 'EINVAL' }, '/dev/kvm refuses a VM with one vCPU (KVM_CREATE_VCPU: EINVAL)'],
  ];
  for (const [r, why] of cases) tt.equal(describeKvmProbe('/dev/kvm', r), why, JSON.stringify(r));
  // And what the runner does with a refusal: TCG with the reason for the best available, an error for -H kvm.
  const warns: string[] = [];
  const refused = describeKvmProbe('/dev/kvm', { ok: false, step: 'KVM_CREATE_VM', code: 'EBUSY' });
  tt.equal(
    chooseAccel('auto', refused, undefined, (l) => void warns.push(l)),
    'tcg',
  );
  tt.match(warns, [/^KVM unusable \(\/dev\/kvm refuses to create a VM \(KVM_CREATE_VM: EBUSY; .*\)\); using TCG$/]);
  tt.throws(() => chooseAccel('kvm', refused, undefined, () => {}), /^KVM unusable: \/dev\/kvm refuses to create a VM/);
});

t.test("command line: upstream options and the tenders' device options", async (tt) => {
  const p = parseVirtioRunArgs(['-q', '-m', '64', '-d', 'disk.img', '-H', 'qemu', '--net:service=tap0', 'k.virtio', '-d', 'x']);
  tt.same([p.quiet, p.memMiB, p.accel, p.kernel, p.args], [true, 64, 'tcg', 'k.virtio', ['-d', 'x']]);
  tt.same([...p.blocks], [[undefined, 'disk.img']]);
  tt.same([...p.nets], [['service', 'tap0']]);
  tt.same(parseVirtioRunArgs(['--mem=32', '--', '-k']).kernel, '-k');
  tt.throws(() => parseVirtioRunArgs(['-H', 'xen', 'k']), /-H xen: unknown hypervisor/);
  tt.throws(() => parseVirtioRunArgs(['-d', 'a', '-d', 'b', 'k']), /-d given twice/);
  tt.throws(() => parseVirtioRunArgs(['--bogus', 'k']), /unknown option --bogus/);
  tt.throws(() => parseVirtioRunArgs(['-m']), /-m needs a value/);
});

t.test('disk image pieces: MBR, FAT12 clusters, syslinux.cfg', async (tt) => {
  const b = mbr(Buffer.alloc(440, 0xaa), 16384);
  tt.same([b[0], b[446], b[450], b.readUInt32LE(454), b.readUInt32LE(458), b[510], b[511]], [0xaa, 0x80, 1, 2048, 16384, 0x55, 0xaa]);
  tt.ok(16384 / clusterSectors(16384) < 4085);
  tt.equal(syslinuxConfig(['a', 'b,c']).split('\n')[3], '  APPEND kernel a b,c');
  tt.throws(() => syslinuxConfig(['---']), /module separator/);
});

const skip = qemuUnavailable() ?? false;

t.test('qemu-system-x86_64 is present where CI installs it', { skip: process.env.CI !== 'true' && 'not under CI' }, async (tt) => {
  tt.equal(qemuUnavailable(), undefined, '.ci/run installs qemu-system-x86 and builds the virtio guests');
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  args: string[],
  onStdout?: (s: string, kill: (sig: NodeJS.Signals) => void) => void,
  file = cli,
  prefix: string[] = [],
): Promise<Ran> {
  return new Promise((resolve) => {
    const argv = [...prefix, process.execPath, file, ...args];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      onStdout?.(stdout, (sig) => child.kill(sig));
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test('virtio guests under TCG', { skip }, async (tt) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'virtio-test-'));
  tt.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const hello = await run(['-q', '-H', 'qemu', '-m', '16', virtio('hello'), 'a,b', 'c']);
  tt.equal(hello.code, 0, hello.stderr);
  tt.match(hello.stdout, /Hello, World\nCommand line is: 'a,b c'\nSUCCESS\n/);
  tt.equal(hello.stderr, '', 'nothing but the console');

  const seven = await run(['-q', '-H', 'qemu', '-m', '16', virtio('exitcode'), '7']);
  tt.equal(seven.code, 7, "the guest's own status, not QEMU's 83");
  const abort = await run(['-q', '-H', 'qemu', '-m', '16', virtio('abort')]);
  tt.equal(abort.code, 255);
  const quiet = await run(['-q', '-H', 'qemu', '-m', '16', virtio('exitcode'), '--solo5:quiet', '3']);
  tt.equal(quiet.code, 0);
  tt.match(quiet.stderr, /ended without saying its status/);

  const disk = path.join(tmp, 'disk.img');
  fs.writeFileSync(disk, Buffer.alloc(64 * 1024));
  const blk = await run(['-q', '-H', 'qemu', '-m', '16', `--block:storage=${disk}`, virtio('blk')]);
  tt.equal(blk.code, 0, blk.stderr);
  tt.match(blk.stdout, /SUCCESS/);
  tt.not(fs.readFileSync(disk).subarray(0, 512).toString('hex'), Buffer.alloc(512).toString('hex'), 'the guest wrote the image');

  // A guest that never halts, ended by each signal the launcher passes on to QEMU: one line, 128 + N.
  const never = (sig: NodeJS.Signals) =>
    run(['-q', '-H', 'qemu', '-m', '16', virtio('sleep'), '60000'], (out, kill) => {
      if (out.includes('READY')) kill(sig);
    });
  const ended = await Promise.all((['SIGTERM', 'SIGINT', 'SIGHUP'] as const).map(never));
  for (const [i, [sig, status]] of (
    [
      ['SIGTERM', 143],
      ['SIGINT', 130],
      ['SIGHUP', 129],
    ] as const
  ).entries()) {
    tt.equal(ended[i].code, status, `${sig} ends QEMU and the launcher exits 128 + N`);
    tt.equal(ended[i].stderr, `solo5-virtio-run: QEMU ended by ${sig}, exit status ${status}\n`, `${sig}: one line`);
    tt.notMatch(ended[i].stdout, /SUCCESS/);
  }

  const image = path.join(tmp, 'hello.img');
  const mk = await run([image, virtio('hello'), 'from', 'disk'], undefined, mkimage);
  tt.equal(mk.code, 0, mk.stderr);
  const boot = await new Promise<Ran>((resolve) => {
    const q = spawn(findQemu(), [
      '-nodefaults',
      '-display',
      'none',
      '-serial',
      'stdio',
      '-device',
      'isa-debug-exit',
      '-accel',
      'tcg',
      '-drive',
      `file=${image},format=raw`,
    ]);
    let stdout = '';
    q.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    q.on('close', (code) => resolve({ code, stdout, stderr: '' }));
  });
  tt.equal(boot.code, 83, 'plain QEMU boots the image');
  tt.match(boot.stdout, /Command line is: 'from disk'\nSUCCESS/);
});

t.test('bad input: one line and status 1', { skip }, async (tt) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'virtio-test-'));
  tt.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const odd = path.join(tmp, 'odd.img');
  fs.writeFileSync(odd, Buffer.alloc(1000));
  const spt = path.join(root, 'guest', 'build', 'hello.spt');
  const cases: [string[], RegExp][] = [
    [[spt], /hello\.spt: not a virtio unikernel: built for solo5-node ring ABI 1001 for spt/],
    [['-d', odd, virtio('blk')], /-d: .*odd\.img: 1000 bytes is not a whole number of 512-byte sectors/],
    [['-d', path.join(tmp, 'none.img'), virtio('blk')], /-d: .*none\.img: cannot open: ENOENT/],
    [['-d', odd, virtio('hello')], /-d: the kernel's manifest declares no BLOCK_BASIC device/],
    [['--net:service0=tap0', virtio('blk')], /--net:service0: the kernel's manifest declares no device named 'service0'/],
    [['-n', 'solo5nosuchtap0', virtio('ping')], /-n: tap 'solo5nosuchtap0': /],
    [[path.join(tmp, 'none.virtio')], /none\.virtio: cannot open: ENOENT/],
  ];
  // In parallel: none of them starts QEMU.
  const results = await Promise.all(cases.map(([args]) => run(['-q', '-H', 'qemu', ...args])));
  for (const [i, [args, re]] of cases.entries()) {
    const r = results[i];
    tt.equal(r.code, 1, args.join(' '));
    tt.match(r.stderr, re);
    tt.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  }
  // QEMU absent, QEMU failing to start, QEMU dying: a PATH holding nothing, or a stand-in for QEMU.
  const onPath = (dir: string, script?: string): Promise<Ran> => {
    fs.mkdirSync(dir);
    if (script !== undefined) fs.writeFileSync(path.join(dir, 'qemu-system-x86_64'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    return new Promise<Ran>((resolve) => {
      const c = spawn(process.execPath, [cli, '-q', '-H', 'qemu', virtio('hello')], { env: { ...process.env, PATH: dir } });
      let stderr = '';
      c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      c.on('close', (code) => resolve({ code, stdout: '', stderr }));
    });
  };
  const [noQemu, failing, dying] = await Promise.all([
    onPath(path.join(tmp, 'empty')),
    onPath(
      path.join(tmp, 'failing'),
      "echo 'qemu-system-x86_64: -accel tcg: cannot allocate guest memory' >&2; echo 'second line' >&2; exit 1",
    ),
    onPath(path.join(tmp, 'dying'), 'kill -SEGV $$'),
  ]);
  tt.equal(noQemu.code, 1);
  tt.match(noQemu.stderr, /^solo5-virtio-run: qemu-system-x86_64 not found on PATH \(Debian: apt-get install qemu-system-x86\)\n$/);
  tt.equal(failing.code, 1, 'QEMU failing to start: status 1');
  tt.equal(failing.stderr, 'solo5-virtio-run: QEMU failed: -accel tcg: cannot allocate guest memory\n', "QEMU's first line, once");
  tt.equal(dying.code, 1, 'QEMU killed: status 1');
  tt.equal(dying.stderr, 'solo5-virtio-run: QEMU failed: QEMU was killed by SIGSEGV\n');
});

t.test("virtio-net on a tap in a namespace of the test's own: the guest pings the host", { skip: skip || tapSkip }, async (tt) => {
  const inNs = tapNamespace(tt, `solo5v${process.pid}`, 'tap0', '10.79.0.1/24');
  const r = await run(
    ['-q', '-H', 'qemu', '-m', '16', '-n', 'tap0', virtio('ping'), '10.79.0.2', '10.79.0.1', '5'],
    undefined,
    cli,
    inNs([]),
  );
  tt.equal(r.code, 0, r.stderr);
  tt.match(r.stdout, /ping: received=5 of 5\nSUCCESS/);
});

t.test("every behaviour row with a virtio build: the table's virtio column, under TCG, four QEMUs at a time", { skip }, async (tt) => {
  const rows = behaviour.filter((r) => r.virtio !== undefined);
  tt.ok(rows.length >= 15, 'the table has a virtio column for the apps built for virtio');
  const results: { output: string; status: number; kind: string }[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < rows.length; i = next++) {
      let output = '';
      const out = new Writable({ write: (c: Buffer, _e, cb) => ((output += c.toString()), cb()) });
      const e = await runVirtio({
        kernel: virtio(rows[i].app),
        args: rows[i].virtio?.args ?? [],
        memMiB: 32,
        accel: 'tcg',
        blocks: new Map(),
        nets: new Map(),
        quiet: true,
        out,
        warn: () => {},
      });
      results[i] = { output, status: e.status, kind: e.kind };
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  for (const [i, row] of rows.entries()) {
    const e = row.virtio;
    if (e === undefined) continue;
    const r = results[i];
    tt.equal(r.status, e.status, `${row.app}: exit status ${e.status}${e.why ? ` (${e.why})` : ''}`);
    for (const m of e.markers) tt.match(r.output, m, `${row.app}: has ${JSON.stringify(m)}`);
    for (const m of e.absent ?? []) tt.notMatch(r.output, m, `${row.app}: lacks ${JSON.stringify(m)}`);
  }
});

t.test('compareTargets with a virtio build: a difference names all three values', { skip: skip || kvmUnavailable() }, async (tt) => {
  const k = (name: string) => ({ spt: app(name, 'spt'), hvt: app(name, 'hvt'), virtio: virtio('abort') });
  const differ = await compareTargets({ kernels: k('exitcode'), args: ['3'], memMB: 32 });
  tt.same(
    differ.differences.map((d) => [d.what, d.spt, d.hvt, d.virtio]),
    [
      ['status', '3', '3', '255'],
      ['output', 'exitcode: exiting with 3', 'exitcode: exiting with 3', 'abort: calling solo5_abort()'],
    ],
  );
});
