// signals.test.ts: no shipped entry point opens Node's inspector on SIGUSR1 or through NODE_OPTIONS, and each does what docs/behaviour.md says.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { kvmUnavailable } from './support/kvm';
import { makeBlockBundle, oci, ociFront, tmpBase } from './support/oci';
import { app, exists, root } from './support/paths';
import { startTime, waitGone } from './support/proc';

const bin = (name: string) => path.join(root, 'dist', 'bin', `${name}.js`);
const BINS = [
  'solo5-spt',
  'solo5-hvt',
  'solo5-oci',
  'solo5-switch',
  'solo5-elftool',
  'solo5-build',
  'solo5-virtio-run',
  'solo5-virtio-mkimage',
];
const INSPECT = '--inspect=127.0.0.1:0';
const OPENED = 'Debugger listening';

/** TCP ports in LISTEN state on a socket that `pid` holds (its fds against /proc/PID/net/tcp and tcp6). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9])) ports.push(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports;
}

interface Watched {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once `text` is on stdout or stderr, or the process has ended. */
  until: (text: string) => Promise<void>;
  ended: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
}

function watch(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Watched {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  child.stdout.setEncoding('utf8').on('data', (d: string) => ((out += d), poke()));
  child.stderr.setEncoding('utf8').on('data', (d: string) => ((err += d), poke()));
  let done = false;
  const ended = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (status, signal) => {
      done = true;
      resolve({ status, signal });
      poke();
    }),
  );
  const until = (text: string) =>
    new Promise<void>((resolve) => {
      const check = () => (done || out.includes(text) || err.includes(text) ? resolve() : waiters.push(check));
      check();
    });
  return { child, stdout: () => out, stderr: () => err, until, ended };
}

/**
 * A SIGUSR1 that reaches node before an entry point's first line (guardSignals) runs: node
 * started with the arguments `extra` sends itself one, and once node has reported the outcome
 * on stderr, SIGUSR2 asks it for the inspector's URL ('undefined' when nothing listens).
 */
async function usr1WhileStarting(extra: string[], outcome: RegExp): Promise<{ stderr: string; url: string }> {
  const script = [
    "process.on('SIGUSR2', () => { process.stdout.write(String(require('node:inspector').url())); process.exit(0); });",
    "process.kill(process.pid, 'SIGUSR1');",
    'setInterval(() => {}, 1000);',
  ].join(' ');
  const child = spawn(process.execPath, [...extra, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let url = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (url += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (outcome.test(stderr)) child.kill('SIGUSR2');
  });
  await new Promise((resolve) => child.on('close', resolve));
  return { stderr, url };
}

t.test("a SIGUSR1 while node starts opens nothing: the #! line's --inspect-port names an address no host has", async (t) => {
  const line = fs.readFileSync(bin('solo5-spt'), 'utf8').split('\n')[0];
  const extra = line.slice(line.indexOf(' node ') + ' node '.length).split(' ');
  t.strictSame(extra, ['--inspect-port=192.0.2.1:9229'], 'the #! line passes node exactly this');
  const guarded = await usr1WhileStarting(extra, /Starting inspector on 192\.0\.2\.1:9229 failed/);
  t.equal(guarded.url, 'undefined', `no inspector (${guarded.stderr.trim()})`);
  // Without it, the same signal opens a debugger on loopback: the check above can fail.
  const open = await usr1WhileStarting(['--inspect-port=127.0.0.1:0'], /Debugger listening/);
  t.match(open.url, /^ws:\/\/127\.0\.0\.1:/, 'without the flag, SIGUSR1 opens an inspector');
});

t.test('every compiled CLI drops NODE_OPTIONS in its #! line and takes SIGUSR1 from Node first', async (t) => {
  for (const name of BINS) {
    const text = fs.readFileSync(bin(name), 'utf8');
    t.equal(text.split('\n')[0], '#!/usr/bin/env -S -u NODE_OPTIONS node --inspect-port=192.0.2.1:9229', `${name}.js: #! line`);
    t.match(text, new RegExp(`guardSignals\\)\\('${name}'\\)`), `${name}.js calls guardSignals()`);
  }
  t.match(fs.readFileSync(path.join(root, 'dist', 'lib', 'oci', 'monitor-main.js'), 'utf8'), /guardSignals\)\('solo5-oci: monitor'\)/);
});

for (const name of BINS) {
  t.test(`${name}: an open inspector is refused, NODE_OPTIONS through the #! line is dropped`, async (t) => {
    const viaNode = spawnSync(process.execPath, [INSPECT, bin(name), '--help'], { encoding: 'utf8', timeout: 120_000 });
    t.equal(viaNode.status, 1, 'node --inspect FILE: exit 1');
    t.match(viaNode.stderr, `${name}: refusing to run with Node's inspector open`);
    t.notMatch(viaNode.stdout, /usage/i, 'nothing ran');
    const env = { ...process.env, NODE_OPTIONS: INSPECT };
    const inherited = spawnSync(process.execPath, [bin(name), '--help'], { encoding: 'utf8', timeout: 120_000, env });
    t.equal(inherited.status, 1, 'NODE_OPTIONS=--inspect node FILE: exit 1');
    // --version: it exits 0 (--help exits 1, as upstream's tenders).
    const direct = spawnSync(bin(name), ['--version'], { encoding: 'utf8', timeout: 120_000, env });
    t.equal(direct.status, 0, `NODE_OPTIONS=--inspect FILE: runs (${direct.stderr.trim()})`);
    t.notMatch(direct.stderr, OPENED, 'with no inspector');
  });
}

/** A tender running `sleep`: SIGUSR1 and SIGUSR2 end the guest and then the tender by the same signal (one line), and open nothing. */
async function tenderEndsOn(t: Test, tender: string, kernel: string, sig: NodeJS.Signals, how: 'node' | 'direct') {
  const [cmd, args] = how === 'node' ? [process.execPath, [bin(tender), kernel, '600000']] : [bin(tender), [kernel, '600000']];
  const p = watch(cmd, args);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await p.until('READY');
  t.match(p.stdout(), /READY/, 'the guest runs');
  t.same(listeningPorts(p.child.pid!), [], 'no TCP listener before');
  p.child.kill(sig);
  await p.until(OPENED);
  const opened = p.stderr().includes(OPENED);
  t.same(opened ? listeningPorts(p.child.pid!) : [], [], 'no TCP listener after');
  t.notOk(opened, 'Node did not open its inspector');
  // An inspector leaves the tender running: end it here rather than wait for it.
  if (opened) p.child.kill('SIGKILL');
  const end = await p.ended;
  // The tender kills its guest, says so, then dies of the same signal (a shell shows 128+N).
  t.same(end, { status: null, signal: sig }, `killed by ${sig} (128+${os.constants.signals[sig]})`);
  t.equal(p.stderr(), `${tender}: ${sig}: guest killed\n`, 'and one line');
}

for (const [tender, target, skip] of [
  ['solo5-spt', 'spt', undefined],
  ['solo5-hvt', 'hvt', kvmUnavailable()],
] as const) {
  const kernel = app('sleep', target);
  for (const how of ['node', 'direct'] as const) {
    for (const sig of ['SIGUSR1', 'SIGUSR2'] as const) {
      t.test(
        `${tender} (${how}): ${sig} ends the guest and the tender`,
        { skip: skip ?? (!exists(kernel) && `${kernel} is not built`) },
        (t) => tenderEndsOn(t, tender, kernel, sig, how),
      );
    }
  }
}

t.test('solo5-switch: SIGUSR1 prints the counters and opens nothing; SIGUSR2 ends it', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-sig-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const p = watch(bin('solo5-switch'), ['--json', path.join(dir, 'sw.sock')]);
  t.teardown(() => void p.child.kill('SIGKILL'));
  await p.until('switching on');
  p.child.kill('SIGUSR1');
  await p.until('"switch"');
  t.match(p.stdout(), /"switch"/, 'the counters');
  t.same(listeningPorts(p.child.pid!), [], 'no TCP listener');
  t.notMatch(p.stderr(), OPENED);
  p.child.kill('SIGUSR2');
  t.same(await p.ended, { status: null, signal: 'SIGUSR2' }, 'SIGUSR2: the default action');
});

t.test(
  'solo5-oci: NODE_OPTIONS does not reach the monitor, which opens no inspector, and SIGUSR1 before start ends it',
  { skip: (!exists(app('blk')) || !exists(ociFront)) && 'blk.spt or addon/oci/build/solo5-oci is not built' },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const b = makeBlockBundle(base, app('blk'));
    // The monitor keeps create's stdout and stderr: files, so that create's end is not waiting on them.
    const errFile = path.join(base, 'create.err');
    const errFd = fs.openSync(errFile, 'w');
    const c = spawnSync(ociFront, ['--root', stateRoot, 'create', '--bundle', b.dir, 'sig'], {
      stdio: ['ignore', 'ignore', errFd],
      env: { ...process.env, NODE_OPTIONS: INSPECT },
      timeout: 120_000,
    });
    fs.closeSync(errFd);
    const stderr = fs.readFileSync(errFile, 'utf8');
    t.equal(c.status, 0, `create through the front door succeeds (${stderr.trim()})`);
    t.notMatch(stderr, OPENED, 'solo5-oci opened no inspector');
    const pid = (JSON.parse(oci(stateRoot, ['state', 'sig']).stdout) as { pid: number }).pid;
    const started = startTime(pid)!;
    t.notMatch(fs.readFileSync(`/proc/${pid}/environ`, 'utf8'), /NODE_OPTIONS/, 'the monitor has no NODE_OPTIONS');
    t.same(listeningPorts(pid), [], 'the monitor listens on no TCP port');
    process.kill(pid, 'SIGUSR1');
    t.ok(await waitGone(pid, started), 'SIGUSR1 ends a monitor whose guest has not started');
    t.equal(oci(stateRoot, ['delete', '--force', 'sig']).status, 0);
  },
);
