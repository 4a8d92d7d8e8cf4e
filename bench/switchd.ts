// switchd.ts: frames per second between two guest processes through the solo5-switch daemon (64-byte frames).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSwitchDaemon } from '../lib';
import { median, type Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const spt = path.join(root, 'dist', 'bin', 'solo5-spt.js');
const netbench = path.join(root, 'guest', 'build', 'netbench.spt');

function parseKv(out: string, key: string): number {
  const m = new RegExp(`${key}=([0-9]+)`).exec(out);
  if (!m) throw new Error(`no ${key}= in output: ${out.slice(-300)}`);
  return Number(m[1]);
}

/** One solo5-spt CLI process; resolves with its output at exit. */
function cli(args: string[], onOut?: (all: string) => void): { done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(process.execPath, [spt, '--mem=64', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const add = (b: Buffer) => {
    out += b.toString();
    onOut?.(out);
  };
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  return { done: new Promise((r) => child.once('exit', (code) => r({ code, out }))) };
}

/** Delivered frames per second, netbench tx -> daemon -> netbench rx, each guest in its own CLI process. */
export async function switchdRows(runs = 5): Promise<Row[]> {
  const size = 64;
  const count = 2_000_000;
  const rates: number[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-switchd-bench-'));
  try {
    for (let i = 0; i < runs; i++) {
      const d = startSwitchDaemon({ path: path.join(dir, `sw${i}.sock`) });
      try {
        const rxMac = '02:00:00:00:5d:0b';
        let ready: () => void = () => {};
        const isReady = new Promise<void>((r) => (ready = r));
        const rx = cli(
          [`--net:service=unix:${d.path}`, `--net-mac:service=${rxMac}`, netbench, '--solo5:quiet', 'rx', String(count)],
          (o) => {
            if (o.includes('ready')) ready();
          },
        );
        await isReady;
        const tx = await cli([`--net:service=unix:${d.path}`, netbench, '--solo5:quiet', 'tx', String(count), String(size), rxMac]).done;
        if (tx.code !== 0) throw new Error(`netbench tx exited ${tx.code}: ${tx.out.slice(-200)}`);
        const r = await rx.done;
        rates.push(parseKv(r.out, 'received') / (parseKv(r.out, 'ns') / 1e9));
      } finally {
        d.close();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return [
    {
      name: `solo5-switch guest->guest ${size} B frames (2 processes)`,
      unit: 'pkt/s',
      value: median(rates),
      floorName: 'target',
      floor: 500_000,
      compare: 'ratio',
      target: 1,
      direction: 'min',
    },
  ];
}
