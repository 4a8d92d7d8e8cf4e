// inplace.test.ts: solo5-spt and solo5-hvt become a Solo5-ABI guest that needs no broker (same pid, its fds only, upstream's wait status); a brokered guest's tender ends by the guest's signal.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { launch } from '../lib';
import { debugHelperPath, helperPath } from '../lib/native';
import { buildDevWait } from './support/devwait';
import { app, sptCli } from './support/paths';
import { kvmUnavailable } from './support/kvm';
import { childrenOf, waitForText } from './support/proc';
import { tapNamespace, tapSkip } from './support/tapns';

const solo5 = (name: string): string => path.join(path.dirname(app(name)), 'solo5', `${name}.spt`);
const built = fs.existsSync(solo5('sleep')) ? false : 'the Solo5-ABI guests are not built (npm run build:guest)';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-inplace-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const hvtCli = path.join(path.dirname(sptCli), 'solo5-hvt.js');
const solo5Hvt = (name: string): string => solo5(name).replace(/\.spt$/, '.hvt');
const hvtSkip =
  kvmUnavailable() ?? (fs.existsSync(solo5Hvt('sleep')) ? false : 'the Solo5-ABI hvt guests are not built (npm run build:guest)');

/** The CLI as an orchestrator starts it: its own child, stdout and stderr pipes. */
function startCli(args: string[], cli = sptCli) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  let stdout = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, pid: child.pid!, exited, stderr: () => stderr, stdout: () => stdout };
}

/** fd number -> what it points at, for every fd of a process. */
function fdsOf(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) out.set(Number(fd), fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
  return out;
}

/** A guest started in place and ready: its pid runs the helper, has no child, and holds exactly `expected` fds. */
async function readyInPlace(tt: Test, args: string[], cli: string, expected: number[], what: string) {
  const started = startCli(args, cli);
  await waitForText(started.child.stdout, 'READY');
  tt.equal(fs.readlinkSync(`/proc/${started.pid}/exe`), helperPath, 'the pid the orchestrator started runs the helper');
  tt.same(childrenOf(started.pid), [], 'and has no child');
  const fds = fdsOf(started.pid);
  tt.same(
    [...fds.keys()].sort((a, b) => a - b),
    expected,
    what,
  );
  return { cli: started, fds };
}

t.test('a Solo5-ABI guest with no devices: the CLI process is the guest', { skip: built }, async (tt) => {
  const { cli, fds } = await readyInPlace(
    tt,
    ['--mem=16', solo5('sleep'), '600000'],
    sptCli,
    [0, 1, 2, 3, 4],
    'exactly stdin, console, stderr, epoll and timerfd',
  );
  tt.equal(fds.get(0), '/dev/null');
  tt.equal(fds.get(3), 'anon_inode:[eventpoll]');
  tt.equal(fds.get(4), 'anon_inode:[timerfd]');
  tt.match(fds.get(1), /^(socket|pipe):/, 'the console is the stdout the orchestrator gave');
  tt.equal(fs.readFileSync(`/proc/${cli.pid}/status`, 'utf8').match(/^Threads:\s+(\d+)/m)?.[1], '1', 'one thread: none of Node is left');
  cli.child.kill('SIGTERM');
  tt.same(await cli.exited, { code: null, signal: 'SIGTERM' }, "the orchestrator's SIGTERM reaches the guest");
  tt.equal(cli.stderr(), '', 'nothing said');
});

t.test('with a block file: its fd too, and nothing else', { skip: built }, async (tt) => {
  const guest = buildDevWait(tmp, { net: false, block: true });
  const disk = path.join(tmp, 'disk.img');
  fs.writeFileSync(disk, Buffer.alloc(64 * 1024));
  const cli = startCli(['--mem=16', `--block:storage=${disk}`, guest]);
  await waitForText(cli.child.stdout, 'READY');
  const fds = fdsOf(cli.pid);
  tt.same(
    [...fds.keys()].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5],
  );
  tt.equal(fds.get(5), disk, 'fd 5 is the image');
  cli.child.kill('SIGKILL');
  tt.same(await cli.exited, { code: null, signal: 'SIGKILL' });
});

t.test("with a tap: the tap is the guest's fd", { skip: built || tapSkip }, async (tt) => {
  const inNs = tapNamespace(tt, `sninplace${process.pid}`, 'tap0', '10.77.0.1/24');
  const guest = buildDevWait(tmp, { net: true, block: true });
  const disk = path.join(tmp, 'disk2.img');
  fs.writeFileSync(disk, Buffer.alloc(64 * 1024));
  const [cmd, ...rest] = inNs([process.execPath, sptCli, '--mem=16', '--net:service=tap0', `--block:storage=${disk}`, guest]);
  const child = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
  await waitForText(child.stdout, 'READY');
  // ip netns exec execs the CLI in its own process: the pid is still the one spawned.
  const fds = fdsOf(child.pid!);
  tt.equal(fs.readlinkSync(`/proc/${child.pid}/exe`), helperPath);
  tt.same(
    [...fds.keys()].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6],
  );
  tt.equal(fds.get(5), '/dev/net/tun', 'fd 5 is the tap (manifest order: service first)');
  tt.equal(fds.get(6), disk, 'fd 6 is the image');
  child.kill('SIGTERM');
  tt.equal(await exited, 'SIGTERM');

  // A pcap makes the tap a brokered device: the tender stays, with the guest its child.
  const [cmd2, ...rest2] = inNs([
    process.execPath,
    sptCli,
    '--mem=16',
    '--net:service=tap0',
    `--net-pcap:service=${path.join(tmp, 'x.pcap')}`,
    `--block:storage=${disk}`,
    guest,
  ]);
  const brokered = spawn(cmd2, rest2, { stdio: ['ignore', 'pipe', 'pipe'] });
  const brokeredExit = new Promise<NodeJS.Signals | null>((resolve) => brokered.on('exit', (_c, s) => resolve(s)));
  await waitForText(brokered.stdout, 'READY');
  tt.not(fs.readlinkSync(`/proc/${brokered.pid}/exe`), helperPath, 'brokered: the CLI stays itself');
  const kids = childrenOf(brokered.pid!).filter((k) => fs.readlinkSync(`/proc/${k}/exe`) === helperPath);
  tt.equal(kids.length, 1, 'brokered: the guest is its child');
  brokered.kill('SIGTERM');
  tt.equal(await brokeredExit, 'SIGTERM', 'brokered: the tender ends by the signal it was sent, after killing its guest');
});

t.test("a guest's fatal signal is the CLI's: WIFSIGNALED, as under upstream's tender", { skip: built }, async (tt) => {
  for (const [name, signal] of [
    ['seccomp', 'SIGSYS'],
    ['exception', 'SIGSEGV'],
    ['zeropage', 'SIGSEGV'],
  ] as const) {
    const cli = startCli(['--mem=16', solo5(name)]);
    tt.same(await cli.exited, { code: null, signal }, `Solo5 ABI ${name}: killed by ${signal}`);
    tt.equal(cli.stderr(), '', `${name}: no line from a tender that is not there`);
  }
  const exitcode = startCli(['--mem=16', solo5('exitcode'), '7']);
  tt.same(await exitcode.exited, { code: 7, signal: null }, 'a normal exit keeps its status');
});

t.test("a brokered (ring-ABI) guest's tender cleans up, says why, then dies of the guest's signal", { skip: built }, async (tt) => {
  for (const [name, signal, line] of [
    ['seccomp', 'SIGSYS', 'solo5-spt: guest killed by SIGSYS (a forbidden system call (seccomp)), exit status 159\n'],
    ['exception', 'SIGSEGV', 'solo5-spt: guest killed by SIGSEGV (a memory access violation or CPU exception), exit status 139\n'],
  ] as const) {
    const cli = startCli(['--mem=16', app(name)]);
    tt.same(await cli.exited, { code: null, signal }, `ring ABI ${name}: the tender died of ${signal}`);
    tt.equal(cli.stderr(), line, 'after its one line');
  }
});

t.test('the API never replaces its caller', { skip: built }, async (tt) => {
  const guest = await launch({ kernel: solo5('hello'), memMB: 16, console: 'inherit' });
  tt.not(guest.pid, process.pid, 'a process of its own');
  tt.match(await guest.exited, { kind: 'exit', status: 0 });
});

t.test('the helper refuses an in-place command line it did not get from the tender', async (tt) => {
  const run = (args: string[]) => spawnSync(helperPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const bogus = run(['--bogus']);
  tt.same(
    [bogus.status, bogus.stderr],
    [1, 'solo5-helper: read argv failed: EINVAL (the helper takes no arguments but --in-place)\n'],
    'an unknown argument',
  );
  for (const fd of ['5', '255', 'x', '']) {
    const low = run(['--in-place', fd]);
    tt.same(
      [low.status, low.stderr],
      [1, 'solo5-helper: read argv failed: EINVAL (an in-place fd is below SN_FD_INPLACE_MIN, or one too many)\n'],
      `fd '${fd}': not a number of 256 or more`,
    );
  }
  const closed = run(['--in-place', '300']);
  tt.same([closed.status, closed.stderr], [1, 'solo5-helper: dup3 an in-place fd failed: EBADF\n'], 'an fd that is not open');
});

t.test('solo5-hvt: a Solo5-ABI guest with no devices: the CLI process is the guest', { skip: hvtSkip }, async (tt) => {
  const { cli, fds } = await readyInPlace(
    tt,
    ['--mem=16', solo5Hvt('sleep'), '600000'],
    hvtCli,
    [0, 1, 2, 3, 4, 5],
    'exactly stdin, console, stderr, the wait epoll, the timer and the vCPU: the KVM device and the VM are closed',
  );
  tt.equal(fds.get(0), '/dev/null');
  tt.equal(fds.get(3), 'anon_inode:[eventpoll]');
  tt.equal(fds.get(4), 'anon_inode:[timerfd]');
  tt.equal(fds.get(5), 'anon_inode:kvm-vcpu:0');
  tt.match(fds.get(1), /^(socket|pipe):/, 'the console is the stdout the orchestrator gave');
  // The kernel's own KVM worker (kvm-nx-lpage-recovery) is counted as a thread of a process with a VM.
  const threads = fs
    .readdirSync(`/proc/${cli.pid}/task`)
    .map((task) => fs.readFileSync(`/proc/${cli.pid}/task/${task}/comm`, 'utf8').trim());
  tt.same(
    threads.filter((c) => !c.startsWith('kvm-')),
    ['solo5-helper'],
    'one thread of its own: none of Node is left',
  );
  cli.child.kill('SIGTERM');
  tt.same(await cli.exited, { code: null, signal: 'SIGTERM' }, "the orchestrator's SIGTERM reaches the guest");
  tt.equal(cli.stderr(), '', 'nothing said');
});

t.test('solo5-hvt with a block file: its fd, then the vCPU, and nothing else', { skip: hvtSkip }, async (tt) => {
  const guest = buildDevWait(tmp, { net: false, block: true }, 'hvt');
  const disk = path.join(tmp, 'disk-hvt.img');
  fs.writeFileSync(disk, Buffer.alloc(64 * 1024));
  const { cli, fds } = await readyInPlace(
    tt,
    ['--mem=16', `--block:storage=${disk}`, guest],
    hvtCli,
    [0, 1, 2, 3, 4, 5, 6],
    'its fds only',
  );
  tt.equal(fds.get(5), disk, 'fd 5 is the image');
  tt.equal(fds.get(6), 'anon_inode:kvm-vcpu:0', 'fd 6 the vCPU');
  cli.child.kill('SIGKILL');
  tt.same(await cli.exited, { code: null, signal: 'SIGKILL' });
});

t.test("solo5-hvt in place: a guest's fatal error is upstream's one line, as the tender prints it", { skip: hvtSkip }, async (tt) => {
  const xnow = startCli(['--mem=16', solo5Hvt('xnow')], hvtCli);
  tt.same(await xnow.exited, { code: 1, signal: null }, 'exit 1');
  tt.match(xnow.stderr(), /^solo5-hvt: KVM: host\/guest translation fault: rip=0x[0-9a-f]+\n$/, 'one clean line');
  tt.notOk(xnow.stderr().includes('\x07'), 'without the marker byte');
  tt.notMatch(xnow.stdout(), 'FAILURE', 'the store did not happen');

  const hello = startCli(['--mem=16', solo5Hvt('hello')], hvtCli);
  tt.same(await hello.exited, { code: 0, signal: null }, 'hello exits 0');
  tt.match(hello.stdout(), 'Hello, World');
  tt.equal(hello.stderr(), '');

  const exitcode = startCli(['--mem=16', solo5Hvt('exitcode'), '7'], hvtCli);
  tt.same(await exitcode.exited, { code: 7, signal: null }, "the guest's status is the process's");
});

t.test('solo5-hvt keeps its tender for --dumpcore', { skip: hvtSkip }, async (tt) => {
  const cli = startCli(['--mem=16', `--dumpcore=${tmp}`, solo5Hvt('sleep'), '600000'], hvtCli);
  await waitForText(cli.child.stdout, 'READY');
  tt.not(fs.readlinkSync(`/proc/${cli.pid}/exe`), helperPath, 'the CLI stays itself');
  tt.equal(childrenOf(cli.pid).filter((k) => fs.readlinkSync(`/proc/${k}/exe`) === debugHelperPath).length, 1, 'the guest is its child');
  cli.child.kill('SIGTERM');
  tt.equal((await cli.exited).signal, 'SIGTERM');
});
