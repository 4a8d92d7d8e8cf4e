// hvtring.ts: ping -f over a tap to Solo5-ABI hvt guests (net ring offered, hypercalls only) against the ring-ABI hvt guest.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createTapNamespace, pingFlood, tapUnavailable, type TapNamespace } from './netns';
import { median, type Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const runner = path.join(root, 'dist', 'bench', 'launch-in-ns.js');

type Variant = 'ring-abi' | 'solo5-ring' | 'solo5-hypercalls';
const kernel = (v: Variant) => path.join(root, 'guest', 'build', ...(v === 'ring-abi' ? [] : ['solo5']), 'net.hvt');

/** The launch-in-ns command for an hvt net guest answering COUNT echoes on the namespace's tap. */
export function hvtNetCommand(tn: TapNamespace, kernel: string, count: number, netRing: boolean): string[] {
  const opts = {
    kernel,
    target: 'hvt',
    memMB: 32,
    args: ['--solo5:quiet', tn.guestIp, String(count)],
    net: { service: { iface: tn.tap } },
    netRing,
  };
  return [process.execPath, runner, JSON.stringify(opts)];
}

/** `ping -f -c COUNT` to an hvt guest; ping's elapsed time (ms). */
function floodOnce(tn: TapNamespace, v: Variant, count: number): Promise<number> {
  return pingFlood(tn, hvtNetCommand(tn, kernel(v), count, v !== 'solo5-hypercalls'), count, v);
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
