// switchd-memory.ts: solo5-switch's resident memory before, during and after 6,000 simultaneous connections (docs/switchd.md).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'bin', 'solo5-switch.js');

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

const SINK_MAC = Buffer.from([0x02, 0, 0, 0, 0, 1]);

/**
 * A 64-byte frame to the sink, in the switch's framing (a 4-byte big-endian
 * length first): each peer's port reads one frame, and only the sink's port
 * queues anything (a broadcast from each of 6,000 peers would fill every
 * queue, which measures the queues, not the connections).
 */
function frameToSink(i: number): Buffer {
  const b = Buffer.alloc(4 + 64);
  b.writeUInt32BE(64, 0);
  SINK_MAC.copy(b, 4);
  b.writeUInt16BE(0x0200, 10);
  b.writeUInt32BE(i, 12);
  b.writeUInt16BE(0x88b5, 16);
  return b;
}

/** One peer, connected and its frame written; a connect refused for a full backlog (EAGAIN) is tried again. */
async function connect(sock: string, frame: Buffer): Promise<net.Socket> {
  for (;;) {
    const s = net.createConnection(sock);
    s.on('data', () => {});
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      s.once('error', resolve);
      s.once('connect', () => s.write(frame, () => resolve(undefined)));
    });
    if (err === undefined) return s;
    s.destroy();
    if (err.code !== 'EAGAIN') throw err;
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface SwitchdMemory {
  connections: number;
  beforeKiB: number;
  duringKiB: number;
  afterKiB: number;
}

/** Start the CLI, connect `n` peers (each sends one frame), then close them all; RSS of the daemon at each step. */
export async function measureSwitchdMemory(n = 6000): Promise<SwitchdMemory> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-switchd-mem-'));
  const sock = path.join(dir, 'sw.sock');
  const child = spawn(process.execPath, [cli, '--json', '--log-level=warn', `--max-ports=${n + 1}`, sock], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let waiter: (() => void) | undefined;
  child.stdout.setEncoding('utf8').on('data', (d: string) => ((out += d), waiter?.()));
  /** Ask for the counters (SIGUSR1) until `open` ports are open and `frames` frames came in. */
  const settle = async (open: number, frames: number): Promise<void> => {
    for (;;) {
      out = '';
      const got = new Promise<void>((r) => (waiter = r));
      child.kill('SIGUSR1');
      await got;
      while (!out.endsWith('\n')) await new Promise<void>((r) => (waiter = r));
      const s = JSON.parse(out.trim().split('\n').pop()!) as { ports: { open: boolean; rxPackets: number }[] };
      const rx = s.ports.reduce((a, p) => a + p.rxPackets, 0);
      if (s.ports.filter((p) => p.open).length === open && rx >= frames) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const peers: net.Socket[] = [];
  try {
    while (!fs.existsSync(sock)) await new Promise((r) => setTimeout(r, 20));
    // The sink: its frame (to itself) makes the switch learn its MAC.
    const sinkFrame = frameToSink(0);
    SINK_MAC.copy(sinkFrame, 10);
    const sink = await connect(sock, sinkFrame);
    await settle(1, 1);
    const beforeKiB = rssKiB(child.pid!);
    // In batches, each waited for: a burst larger than the listen backlog is refused (EAGAIN).
    for (let i = 0; i < n; i += 100) {
      const batch: Promise<void>[] = [];
      for (let j = i; j < Math.min(n, i + 100); j++) batch.push(connect(sock, frameToSink(j + 1)).then((s) => void peers.push(s)));
      await Promise.all(batch);
    }
    await settle(n + 1, n + 1);
    const duringKiB = rssKiB(child.pid!);
    for (const s of peers.splice(0)) s.destroy();
    await settle(1, 0);
    const afterKiB = rssKiB(child.pid!);
    sink.destroy();
    return { connections: n, beforeKiB, duringKiB, afterKiB };
  } finally {
    for (const s of peers) s.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows for `npm run bench`: RSS growth per connection while connected, and what is left once they are gone. */
export async function switchdMemoryRows(): Promise<Row[]> {
  const m = await measureSwitchdMemory();
  console.log(`switchd memory: ${JSON.stringify(m)}`);
  return [
    {
      name: `switchd RSS per connection (${m.connections} open)`,
      unit: 'KiB',
      value: (m.duringKiB - m.beforeKiB) / m.connections,
      floorName: 'none',
      floor: 0,
      compare: 'diff',
    },
    {
      name: 'switchd RSS after they close, above before',
      unit: 'MiB',
      value: (m.afterKiB - m.beforeKiB) / 1024,
      floorName: 'none',
      floor: 0,
      compare: 'diff',
    },
  ];
}

if (require.main === module) {
  void measureSwitchdMemory(Number(process.argv[2] ?? 6000)).then((m) => console.log(JSON.stringify(m)));
}
