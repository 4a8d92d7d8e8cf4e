// switchd-guests.test.ts: bundled unikernels in separate solo5-spt processes (as nobody when root) ping each other through solo5-switch.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startSwitchDaemon, type SwitchDaemon } from '../lib';
import { app, sptCli } from './support/paths';
import { childrenOf, procStatus } from './support/proc';
import { until } from './support/ring-guest';

const asRoot = process.geteuid?.() === 0;
const built = ['net', 'ping', 'netbench'].find((n) => !fs.existsSync(app(n)));
if (built) t.comment(`guest/build/${built}.spt is missing (npm run build:guest)`);
// Root runs the guests as nobody; anyone else runs them as themselves, which
// is the unprivileged case the daemon is for.
const userArgs = asRoot ? ['--user=nobody'] : [];
if (!asRoot) t.comment('not root: the guests run as this user (--user=nobody needs a tender running as root)');

const RESPONDER_MAC = '02:00:00:00:5d:02';

interface Cli {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

/** A solo5-spt CLI process on the switch; killed at teardown. */
function guest(t: Test, sock: string, kernel: string, args: string[], extra: string[] = []): Cli {
  const child = spawn(process.execPath, [sptCli, ...userArgs, '--mem=32', `--net:service=unix:${sock}`, ...extra, kernel, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  return { child, out: () => out, exited };
}

function daemon(t: Test, pcap?: string): SwitchDaemon {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchd-g-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const d = startSwitchDaemon({ path: path.join(dir, 'sw.sock'), pcap });
  t.teardown(() => d.close());
  return d;
}

/** The uid of the guest process under a CLI tender (its only child). */
function guestUid(c: Cli): string | undefined {
  const pid = c.child.pid;
  const kids = pid === undefined ? [] : childrenOf(pid);
  return kids.length === 1 ? procStatus(kids[0]).get('Uid')?.split(/\s+/)[0] : undefined;
}

t.test('two guests in two solo5-spt processes ping each other through the daemon', { skip: built }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchd-cap-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pcap = path.join(dir, 'sw.pcap');
  const d = daemon(t, pcap);
  t.equal(fs.statSync(d.path).mode & 0o777, 0o600, 'the socket is owner-only');
  const N = 20;
  const responder = guest(t, d.path, app('net'), ['10.0.0.2', String(N)], [`--net-mac:service=${RESPONDER_MAC}`]);
  await until(() => responder.out().includes('net: service mac'), 'the responder is up');
  if (asRoot) t.equal(guestUid(responder), '65534', 'the responder guest runs as nobody');
  const pinger = guest(t, d.path, app('ping'), ['10.0.0.1', '10.0.0.2', String(N)]);
  t.equal(await pinger.exited, 0, 'the pinger exits 0');
  t.match(pinger.out(), `ping: received=${N} of ${N}`);
  t.equal(await responder.exited, 0, `the responder exits 0 after ${N} replies`);
  const s = d.close();
  t.equal(s.ports.length, 2, 'two ports');
  for (const p of s.ports) {
    t.ok(p.rxPackets >= N + 1 && p.txPackets >= N + 1, `port ${p.port}: rx ${p.rxPackets}, tx ${p.txPackets}`);
    t.equal(p.txDropped, 0, `port ${p.port}: nothing dropped`);
  }
  const tcpdump = spawnSync('tcpdump', ['-nn', '-r', pcap, 'icmp'], { encoding: 'utf8' });
  if (tcpdump.error) {
    // .ci/run installs tcpdump: in CI a missing reader is a broken setup, not a reason to check less.
    if (process.env.CI) t.fail(`tcpdump did not run (CI is set): ${tcpdump.error.message}`);
    else t.pass('the capture holds the requests and the replies', { skip: 'no tcpdump' });
  } else {
    t.equal((tcpdump.stdout.match(/ICMP echo request/g) ?? []).length, N, 'the capture holds the requests');
    t.equal((tcpdump.stdout.match(/ICMP echo reply/g) ?? []).length, N, 'and the replies');
  }
});

t.test('a flooding guest does not cost a pinger a single reply', { skip: built }, async (t) => {
  const d = daemon(t);
  const N = 30;
  const responder = guest(t, d.path, app('net'), ['10.0.0.2'], [`--net-mac:service=${RESPONDER_MAC}`]);
  await until(() => responder.out().includes('net: service mac'), 'the responder is up');
  // 64-byte frames at the responder's address, for longer than the pings take.
  const flooder = guest(t, d.path, app('netbench'), ['--solo5:quiet', 'tx', '50000000', '64', RESPONDER_MAC]);
  await until(() => (d.stats().ports.find((p) => p.port === 2)?.rxPackets ?? 0) > 100_000, 'the flood is on');
  const pinger = guest(t, d.path, app('ping'), ['10.0.0.1', '10.0.0.2', String(N)]);
  const code = await pinger.exited;
  const s = d.stats();
  // The daemon's part: it read every frame the pinger sent and dropped none
  // of them (a flood frame is dropped before a ping is).
  const ping = s.ports.find((p) => p.port === 3);
  t.ok(ping && ping.rxPackets >= N, `the switch read the pinger's ${ping?.rxPackets} frames`);
  t.equal(ping?.rxDropped, 0, 'and dropped none of them');
  // End to end, the responder's tender takes no more frames off its socket
  // than its guest's rx ring has room for, so the daemon's fair queue
  // decides what is dropped (red without that backpressure: 24-28 of 30).
  t.equal(code, 0, `the pinger exits 0 (${pinger.out().match(/received=\S+/)?.[0] ?? 'no count'})`);
  const flood = s.ports.find((p) => p.port === 2);
  t.ok(flood && flood.rxPackets > 100_000, `the flood went on meanwhile (${flood?.rxPackets} frames, ${flood?.rxDropped} of them dropped)`);
  flooder.child.kill('SIGTERM');
  responder.child.kill('SIGTERM');
});
