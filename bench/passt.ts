// passt.ts: UDP echo round trips to the bundled udpecho unikernel through passt and through a tap, in a private namespace.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tapUnavailable } from './netns';
import type { Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const probe = path.join(root, 'test', 'support', 'udp_probe.py');
const cli = path.join(root, 'dist', 'bin', 'solo5-spt.js');
const udpecho = path.join(root, 'guest', 'build', 'udpecho.spt');
/** The host port passt forwards to the guest's port 7. */
const FORWARDED = 7007;

/** Why the passt rows cannot run here, or undefined. */
function passtUnavailable(): string | undefined {
  const tap = tapUnavailable();
  if (tap) return tap;
  if (spawnSync('sh', ['-c', 'command -v passt']).status !== 0) return 'passt is not installed';
  return undefined;
}

function sh(cmd: string[]): void {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr.trim()}`);
}

/**
 * One namespace holds both paths: `tpl0` with an address and the default
 * route is passt's template, `tap0` is the guest's tap for the comparison.
 * Nothing attached to tpl0 reads it, so nothing leaves the namespace.
 */
function makeNamespace(ns: string): (cmd: string[]) => string[] {
  sh(['ip', 'netns', 'add', ns]);
  const inNs = (cmd: string[]) => ['ip', 'netns', 'exec', ns, ...cmd];
  const etc = path.join('/etc/netns', ns);
  fs.mkdirSync(etc, { recursive: true });
  fs.writeFileSync(path.join(etc, 'resolv.conf'), 'nameserver 10.79.0.53\n');
  for (const c of [
    ['ip', 'link', 'set', 'lo', 'up'],
    ['ip', 'tuntap', 'add', 'dev', 'tpl0', 'mode', 'tap'],
    ['ip', 'addr', 'add', '10.79.0.2/24', 'dev', 'tpl0'],
    ['ip', 'link', 'set', 'tpl0', 'up'],
    ['ip', 'route', 'add', 'default', 'via', '10.79.0.1'],
    ['ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap'],
    ['ip', 'addr', 'add', '10.80.0.1/24', 'dev', 'tap0'],
    ['ip', 'link', 'set', 'tap0', 'up'],
  ]) {
    sh(inNs(c));
  }
  return inNs;
}

/** Start udpecho with `args` and wait for its start line; returns a stop function. */
async function startGuest(argv: string[]): Promise<() => Promise<void>> {
  const g = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const closed = new Promise<void>((r) => g.on('close', () => r()));
  await new Promise<void>((resolve, reject) => {
    const look = (b: Buffer) => {
      out += b.toString();
      if (/ mtu [0-9]+ ip /.test(out)) resolve();
    };
    g.stdout.on('data', look);
    g.stderr.on('data', look);
    void closed.then(() => reject(new Error(`udpecho ended before it started: ${out.trim()}`)));
  });
  return async () => {
    g.kill('SIGTERM');
    await closed;
  };
}

/** Median round trip of `n` echoes, in microseconds, measured by the same client for both paths. */
function echoMedian(inNs: (cmd: string[]) => string[], host: string, port: number, n: number): number {
  const argv = inNs(['python3', probe, 'echo', host, String(port), String(n), '1']);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 300_000 });
  const m = /rtt_us=([0-9.]+)/.exec(r.stdout);
  if (!/echoed=([0-9]+) of \1/.test(r.stdout) || !m) throw new Error(`udp echo to ${host}:${port} failed: ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}

/** The passt row, or none (with a note saying why) where passt or a namespace cannot be had. */
export async function passtRows(n: number): Promise<Row[]> {
  const why = passtUnavailable();
  if (why) {
    console.log(`(passt rows skipped: ${why})`);
    return [];
  }
  const ns = `solo5bp${process.pid}`;
  const inNs = makeNamespace(ns);
  try {
    const run = (net: string[], args: string[]) => inNs([process.execPath, cli, '--mem=32', ...net, udpecho, '--solo5:quiet', ...args]);
    // Warm-up echoes first: the guest's first frames also teach passt (or the kernel's ARP) its MAC.
    let stop = await startGuest(run(['--net:service=passt', `--net-forward:service=udp:${FORWARDED}:7`], ['--ipv4={service.ipv4}']));
    echoMedian(inNs, '127.0.0.1', FORWARDED, 20);
    const viaPasst = echoMedian(inNs, '127.0.0.1', FORWARDED, n);
    await stop();
    stop = await startGuest(run(['--net:service=tap0'], ['--ipv4=10.80.0.2/24']));
    echoMedian(inNs, '10.80.0.2', 7, 20);
    const viaTap = echoMedian(inNs, '10.80.0.2', 7, n);
    await stop();
    return [
      {
        name: 'passt UDP echo RTT median (spt)',
        unit: 'us',
        value: viaPasst,
        floorName: 'the same through a tap',
        floor: viaTap,
        compare: 'ratio',
      },
    ];
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    fs.rmSync(path.join('/etc/netns', ns), { recursive: true, force: true });
  }
}
