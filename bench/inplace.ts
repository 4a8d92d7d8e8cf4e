// inplace.ts: what solo5-spt costs when it becomes its Solo5-ABI guest: the process's memory and the CLI's launch-to-exit.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDevWait } from '../test/support/devwait';
import { childrenOf, waitForText } from '../test/support/proc';
import { spawnWait } from './boot';
import { createTapNamespace, tapUnavailable, type TapNamespace } from './netns';
import { median, sample, type Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'bin', 'solo5-spt.js');
const hello = (abi: 'ring' | 'solo5') => path.join(root, 'guest', 'build', ...(abi === 'solo5' ? ['solo5'] : []), 'hello.spt');

const rssKiB = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/** RSS in KiB of the process `ip netns exec` started (it execs the CLI in place) and of its children, once the guest is READY. */
async function rssOnce(tn: TapNamespace, args: string[]): Promise<{ cli: number; total: number }> {
  const cmd = tn.exec([process.execPath, cli, '--mem=64', ...args]);
  const c = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const ended = new Promise<void>((resolve) => c.on('close', () => resolve()));
  try {
    await waitForText(c.stdout, 'READY');
    const own = rssKiB(c.pid!);
    return { cli: own, total: own + childrenOf(c.pid!).reduce((sum, k) => sum + rssKiB(k), 0) };
  } finally {
    c.kill('SIGKILL');
    await ended;
  }
}

/**
 * RSS of the solo5-spt process running a Solo5-ABI guest with a tap and a block file (it is the
 * guest: at most 4 MiB, issue 20), and the same guest with a pcap on its tap, which needs the broker
 * (the tender and its guest together, reported).
 */
export async function inPlaceRssRows(): Promise<Row[]> {
  const why = tapUnavailable();
  if (why) {
    console.log(`(solo5-spt RSS rows skipped: ${why})`);
    return [];
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-rss-'));
  const tn = createTapNamespace();
  try {
    const guest = buildDevWait(dir, { net: true, block: true });
    const img = path.join(dir, 'disk.img');
    fs.writeFileSync(img, Buffer.alloc(1 << 20));
    const devices = [`--net:service=${tn.tap}`, `--block:storage=${img}`];
    const inPlace: number[] = [];
    const brokered: number[] = [];
    for (let i = 0; i < 3; i++) {
      inPlace.push((await rssOnce(tn, [...devices, guest])).cli);
      brokered.push((await rssOnce(tn, [...devices, `--net-pcap:service=${path.join(dir, 'x.pcap')}`, guest])).total);
    }
    return [
      {
        name: 'RSS of solo5-spt running a Solo5-ABI guest with a tap and a block file (it is the guest)',
        unit: 'MiB',
        value: median(inPlace) / 1024,
        floorName: 'none (absolute)',
        floor: 0,
        compare: 'diff',
        target: 4,
      },
      {
        name: 'the same guest with a pcap on its tap (brokered): tender + guest RSS',
        unit: 'MiB',
        value: median(brokered) / 1024,
        floorName: 'in place',
        floor: median(inPlace) / 1024,
        compare: 'ratio',
      },
    ];
  } finally {
    tn.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Launch-to-exit of hello through the CLI: Solo5 ABI (the CLI becomes it) against the ring ABI (spawned), interleaved. */
export async function inPlaceBootRows(n: number): Promise<Row[]> {
  const runs = { ring: [] as number[], solo5: [] as number[] };
  for (let round = 0; round < 5; round++) {
    for (const abi of ['ring', 'solo5'] as const) {
      runs[abi].push(...(await sample(Math.ceil(n / 10), 1, () => spawnWait(process.execPath, [cli, '--mem=64', hello(abi), 'bench']))));
    }
  }
  return [
    {
      name: `solo5-spt CLI hello, whole process: Solo5 ABI, in place (n=${runs.solo5.length})`,
      unit: 'ms',
      value: median(runs.solo5),
      floorName: 'ring ABI, spawned',
      floor: median(runs.ring),
      compare: 'ratio',
    },
  ];
}
