// hvtring.ts: ping -f over a tap to Solo5-ABI hvt guests (net ring offered, hypercalls only) against the ring-ABI hvt guest.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { createTapNamespace, tapUnavailable, type TapNamespace } from './netns';
import { median, type Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const runner = path.join(root, 'dist', 'bench', 'launch-in-ns.js');

type Variant = 'ring-abi' | 'solo5-ring' | 'solo5-hypercalls';
const kernel = (v: Variant) => path.join(root, 'guest', 'build', ...(v === 'ring-abi' ? [] : ['solo5']), 'net.hvt');

/**
 * `ping -f -c COUNT` from the namespace's kernel to a guest on its tap; the
 * guest answers COUNT echoes and exits. Returns ping's own elapsed time (ms).
 */
async function floodOnce(tn: TapNamespace, v: Variant, count: number): Promise<number> {
  const opts = {
    kernel: kernel(v),
    target: 'hvt',
    memMB: 32,
    args: ['--solo5:quiet', tn.guestIp, String(count)],
    net: { service: { iface: tn.tap } },
    netRing: v !== 'solo5-hypercalls',
  };
  const cmd = tn.exec([process.execPath, runner, JSON.stringify(opts)]);
  const g = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  const ended = new Promise<number | null>((r) => g.on('close', (code) => r(code)));
  // The guest says nothing with --solo5:quiet; wait until it answers ARP-backed pings.
  for (let tries = 0; ; tries++) {
    const probe = tn.exec(['ping', '-c', '1', '-W', '1', tn.guestIp]);
    if (spawnSync(probe[0], probe.slice(1)).status === 0) break;
    if (tries > 30) throw new Error(`${v} guest never answered`);
  }
  const args = tn.exec(['ping', '-q', '-f', '-c', String(count - 1), tn.guestIp]);
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: 600_000 });
  const code = await ended;
  const m = /(\d+) received.*time (\d+)ms/.exec(r.stdout);
  if (!m || Number(m[1]) !== count - 1) throw new Error(`${v}: ping -f: ${r.stdout.trim()} ${r.stderr.trim()}`);
  if (code !== 0) throw new Error(`${v} net guest exited ${code}`);
  return Number(m[2]);
}

/** The Solo5-ABI hvt guest with the ring offered at most 1.5x the ring-ABI guest's time; hypercalls only, reported. */
export async function hvtRingRows(count = 100_000, hypercallCount = Math.min(count, 5_000)): Promise<Row[]> {
  const why = tapUnavailable() ?? (spawnSync('ping', ['-V']).status === 0 ? undefined : 'no ping (iputils-ping)');
  if (why) {
    console.log(`(hvt ping -f rows skipped: ${why})`);
    return [];
  }
  const tn = createTapNamespace();
  const ms: Record<Variant, number[]> = { 'ring-abi': [], 'solo5-ring': [], 'solo5-hypercalls': [] };
  try {
    for (let i = 0; i < 3; i++) {
      ms['ring-abi'].push(await floodOnce(tn, 'ring-abi', count));
      ms['solo5-ring'].push(await floodOnce(tn, 'solo5-ring', count));
    }
    // Every frame is a VM exit on this path: fewer pings, the rate is what is reported.
    ms['solo5-hypercalls'].push(await floodOnce(tn, 'solo5-hypercalls', hypercallCount));
  } finally {
    tn.close();
  }
  const hyper = median(ms['solo5-hypercalls']);
  return [
    {
      name: `hvt ping -f ${count} over a tap: Solo5 ABI, net ring offered, vs ring ABI`,
      unit: 'ms',
      value: median(ms['solo5-ring']),
      floorName: 'ring-ABI hvt guest',
      floor: median(ms['ring-abi']),
      compare: 'ratio',
      target: 1.5,
    },
    {
      name: `hvt ping -f over a tap: Solo5 ABI, hypercalls only (netRing: false), ${hypercallCount} pings`,
      unit: 'pings/s',
      value: Math.round((hypercallCount / hyper) * 1000),
      floorName: 'net ring offered',
      floor: Math.round((count / median(ms['solo5-ring'])) * 1000),
      compare: 'ratio',
      direction: 'min',
    },
  ];
}
