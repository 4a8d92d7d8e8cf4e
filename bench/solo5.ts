// solo5.ts: Solo5-ABI guests against their floors and against the ring ABI, measured in the same run (issue 7's targets).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../lib';
import { spawnWait } from './boot';
import { createTapNamespace, pingFlood, tapUnavailable, type TapNamespace } from './netns';
import { median, sample, type Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
type Abi = 'ring' | 'solo5';
const kernel = (app: string, abi: Abi) =>
  abi === 'ring' ? path.join(root, 'guest', 'build', `${app}.spt`) : path.join(root, 'guest', 'build', 'solo5', `${app}.spt`);
const cli = path.join(root, 'dist', 'bin', 'solo5-spt.js');

/** Solo5-ABI hello, launch to exit through the API, against spawning /bin/true (interleaved rounds). */
export async function solo5BootRows(n: number): Promise<Row[]> {
  const floor: number[] = [];
  const api: number[] = [];
  for (let round = 0; round < 5; round++) {
    floor.push(...(await sample(Math.ceil(n / 5), 3, () => spawnWait('/bin/true', []))));
    api.push(
      ...(await sample(Math.ceil(n / 5), 3, async () => {
        const r = await run({ kernel: kernel('hello', 'solo5'), args: ['bench'], memMB: 64 });
        if (r.exit.status !== 0) throw new Error(`Solo5-ABI hello exited ${r.exit.status}`);
      })),
    );
  }
  return [
    {
      name: `Solo5-ABI hello launch-to-exit, API (n=${api.length})`,
      unit: 'ms',
      value: median(api),
      floorName: 'spawn /bin/true',
      floor: median(floor),
      compare: 'ratio',
      target: 1.0,
    },
  ];
}

function kv(out: string, key: string): number {
  const m = new RegExp(`${key}=(\\d+)`).exec(out);
  if (!m) throw new Error(`no ${key}= in ${JSON.stringify(out.slice(-200))}`);
  return Number(m[1]);
}

/** 4 KiB sequential block I/O: ring ABI (brokered) against the Solo5 ABI's direct fd, alternating runs. */
export async function solo5BlockRows(): Promise<Row[]> {
  const MB = 64;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-bench-'));
  const img = path.join(dir, 'disk.img');
  fs.writeFileSync(img, Buffer.alloc(MB << 20, 1));
  const rows: Row[] = [];
  try {
    for (const op of ['write', 'read'] as const) {
      const rate: Record<Abi, number[]> = { ring: [], solo5: [] };
      for (let i = 0; i < 5; i++) {
        for (const abi of ['solo5', 'ring'] as const) {
          const r = await run({
            kernel: kernel('blkbench', abi),
            args: ['--solo5:quiet', op, '4096', String(MB)],
            memMB: 64,
            // 4 KiB blocks: one request is one block, so the Solo5 ABI makes one pread/pwrite per request.
            block: { storage: { path: img, sectorSize: 4096 } },
            timeoutMs: 120_000,
          });
          if (r.exit.status !== 0) throw new Error(`${abi} blkbench ${op} exited ${r.exit.status}: ${r.output.slice(-200)}`);
          rate[abi].push(kv(r.output, 'bytes') / 1048576 / (kv(r.output, 'ns') / 1e9));
        }
      }
      rows.push({
        name: `block ${op} 4 KiB, ring ABI vs Solo5 ABI fd`,
        unit: 'MB/s',
        value: median(rate.ring),
        floorName: `Solo5-ABI fd ${op}`,
        floor: median(rate.solo5),
        compare: 'ratio',
        target: 0.8,
        direction: 'min',
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** `ping -f -c COUNT` to a guest started by the spt CLI; ping's elapsed time (ms). */
function floodOnce(tn: TapNamespace, abi: Abi, count: number, extra: string[] = []): Promise<number> {
  const cmd = [
    process.execPath,
    cli,
    '--mem=32',
    ...extra,
    `--net:service=${tn.tap}`,
    kernel('net', abi),
    '--solo5:quiet',
    tn.guestIp,
    String(count),
  ];
  return pingFlood(tn, cmd, count, abi);
}

/** ping -f over a tap: a ring-ABI guest (brokered tap) against a Solo5-ABI guest holding the tap fd itself. */
export async function solo5TapRows(count = 100_000): Promise<Row[]> {
  const why = tapUnavailable() ?? (spawnSync('ping', ['-V']).status === 0 ? undefined : 'no ping (iputils-ping)');
  if (why) {
    console.log(`(ping -f rows skipped: ${why})`);
    return [];
  }
  const tn = createTapNamespace();
  // The ring guest twice: the default (--affinity=none) and --affinity=auto (guest and pump share a CPU).
  const ms = { solo5: [] as number[], auto: [] as number[], none: [] as number[] };
  try {
    for (let i = 0; i < 3; i++) {
      ms.solo5.push(await floodOnce(tn, 'solo5', count));
      ms.auto.push(await floodOnce(tn, 'ring', count, ['--affinity=auto']));
      ms.none.push(await floodOnce(tn, 'ring', count));
    }
  } finally {
    tn.close();
  }
  const row = (name: string, runs: number[]): Row => ({
    name: `ping -f ${count} over a tap: ring ABI (${name}) vs Solo5 ABI (tap fd in the guest)`,
    unit: 'ms',
    value: median(runs),
    floorName: 'Solo5-ABI guest',
    floor: median(ms.solo5),
    compare: 'ratio',
    target: 1.3,
  });
  return [row('--affinity=none, the default', ms.none), row('--affinity=auto', ms.auto)];
}
