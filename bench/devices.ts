// devices.ts: block MB/s, net packets/s and net round trips, each against a floor measured in the same run.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, run, VirtualSwitch } from '../lib';
import { testNative } from '../test/support/native-test';
import { Pinger } from '../lib/net/pinger';
import type { Target } from '../lib/tender/options';
import { createTapNamespace, tapUnavailable } from './netns';
import { median, percentile, type Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const kernel = (name: string, target: Target) => path.join(root, 'guest', 'build', `${name}.${target}`);
const kping = path.join(root, 'test', 'support', 'kping.py');
const IMAGE_MB = 256;

function parseKv(out: string, key: string): number {
  const m = new RegExp(`${key}=([0-9]+)`).exec(out);
  if (!m) throw new Error(`no ${key}= in output: ${out.slice(-300)}`);
  return Number(m[1]);
}

function syncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

/** Sequential block I/O: the guest's MB/s through the rings against pread/pwrite done natively. */
export async function blockRows(target: Target, floors?: Map<string, number>): Promise<Row[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-bench-'));
  const img = path.join(dir, 'disk.img');
  fs.writeFileSync(img, Buffer.alloc(IMAGE_MB << 20, 1)); // in the page cache, like the floor's file
  const rows: Row[] = [];
  try {
    for (const op of ['write', 'read'] as const) {
      for (const size of [4096, 65536]) {
        const guestMBs: number[] = [];
        const floorMBs: number[] = [];
        for (let i = 0; i < 3; i++) {
          // Flush what earlier runs dirtied, so background writeback falls on neither measurement.
          syncFile(img);
          const fd = fs.openSync(img, 'r+');
          const count = (IMAGE_MB << 20) / size;
          const { seconds } = testNative().benchFloor(fd, op === 'read' ? 1 : 2, size, count, IMAGE_MB << 20);
          fs.closeSync(fd);
          floorMBs.push(IMAGE_MB / seconds);
          syncFile(img);
          const r = await run({
            kernel: kernel('blkbench', target),
            target,
            args: ['--solo5:quiet', op, String(size), String(IMAGE_MB)],
            memMB: 64,
            block: { storage: { path: img } },
            timeoutMs: 120000,
          });
          if (r.exit.status !== 0) throw new Error(`blkbench ${op} ${size} exited ${r.exit.status}: ${r.output.slice(-200)}`);
          guestMBs.push(parseKv(r.output, 'bytes') / 1048576 / (parseKv(r.output, 'ns') / 1e9));
        }
        const key = `${op}${size}`;
        floors?.set(key, median(guestMBs));
        rows.push({
          name: `${target} block ${op} ${size / 1024} KiB`,
          unit: 'MB/s',
          value: median(guestMBs),
          floorName: `native p${op}`,
          floor: median(floorMBs),
          compare: 'ratio',
          target: size === 4096 ? 0.5 : 0.8,
          direction: 'min',
        });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** Frames per second from one netbench guest to another through the switch. */
export async function switchThroughputRows(target: Target): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of [64, 1500]) {
    const results: number[] = [];
    // Delivered rates swing with which of four busy threads gets the two cores: take 5.
    for (let i = 0; i < 5; i++) {
      const sw = new VirtualSwitch();
      try {
        const count = size === 64 ? 2_000_000 : 500_000;
        const rx = await launch({
          kernel: kernel('netbench', target),
          target,
          args: ['--solo5:quiet', 'rx', String(count)],
          memMB: 64,
          console: 'pipe',
          net: { service: { switch: sw, mac: '02:00:00:00:00:0b' } },
        });
        let out = '';
        rx.console?.on('data', (b: Buffer) => (out += b.toString()));
        for (let w = 0; w < 200 && !out.includes('ready'); w++) await new Promise((r) => setTimeout(r, 10));
        const tx = await run({
          kernel: kernel('netbench', target),
          target,
          args: ['--solo5:quiet', 'tx', String(count), String(size), '02:00:00:00:00:0b'],
          memMB: 64,
          net: { service: { switch: sw } },
          timeoutMs: 60000,
        });
        if (tx.exit.status !== 0) throw new Error(`netbench tx exited ${tx.exit.status}`);
        await rx.exited;
        results.push(parseKv(out, 'received') / (parseKv(out, 'ns') / 1e9));
      } finally {
        sw.close();
      }
    }
    rows.push({
      name: `${target} switch guest->guest ${size} B frames`,
      unit: 'pkt/s',
      value: median(results),
      floorName: 'target',
      floor: 500_000,
      compare: 'ratio',
      target: size === 64 ? 1 : undefined,
      direction: 'min',
    });
  }
  return rows;
}

/** ICMP echo round trips: a TypeScript endpoint through the switch, and the kernel over tap. */
export async function rttRows(target: Target): Promise<Row[]> {
  const rows: Row[] = [];
  const N = 2000;
  const sw = new VirtualSwitch();
  let switchRtts: number[];
  try {
    const guest = await launch({
      kernel: kernel('net', target),
      target,
      args: ['--solo5:quiet', '10.0.0.2', String(N)],
      memMB: 32,
      net: { service: { switch: sw } },
    });
    const p = new Pinger(sw.endpoint(), '10.0.0.1');
    const mac = await p.resolve('10.0.0.2');
    switchRtts = (await p.ping('10.0.0.2', mac, N)).rttsUs;
    await guest.exited;
  } finally {
    sw.close();
  }
  const why = tapUnavailable();
  if (why) {
    console.log(`(tap round trips skipped: ${why})`);
    rows.push({
      name: `${target} switch RTT median (TS endpoint)`,
      unit: 'us',
      value: median(switchRtts),
      floorName: '-',
      floor: median(switchRtts),
      compare: 'ratio',
    });
    return rows;
  }
  const tn = createTapNamespace();
  try {
    const kpingRtts = (ip: string, n: number): number[] => {
      // The bench's kping waits 2 s for each echo, not the tests' 30 s: a lost reply costs a row, not minutes.
      const [file, ...args] = tn.exec(['python3', kping, ip, String(n), '2']);
      const r = spawnSync(file, args, {
        encoding: 'utf8',
        timeout: 120000,
      });
      return r.stdout.trim().split('\n').slice(1).map(Number);
    };
    const floor = kpingRtts(tn.hostIp, N);
    const cmd = tn.exec([
      process.execPath,
      path.join(root, 'dist', 'bin', `solo5-${target}.js`),
      '--mem=32',
      `--net:service=${tn.tap}`,
      kernel('net', target),
      '--solo5:quiet',
      tn.guestIp,
      String(N),
    ]);
    const g = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
    const ended = new Promise((r) => g.on('close', r));
    await new Promise((r) => setTimeout(r, 300));
    const tapRtts = kpingRtts(tn.guestIp, N);
    await ended;
    rows.push(
      // The switch round trip includes JavaScript on the endpoint side; the issue sets no target for it.
      {
        name: `${target} switch RTT median (TS endpoint)`,
        unit: 'us',
        value: median(switchRtts),
        floorName: 'kernel echo (netns)',
        floor: median(floor),
        compare: 'ratio',
      },
      {
        name: `${target} switch RTT p99 (TS endpoint)`,
        unit: 'us',
        value: percentile(switchRtts, 99),
        floorName: 'kernel echo p99',
        floor: percentile(floor, 99),
        compare: 'ratio',
      },
      {
        name: `${target} tap RTT median (kernel ping)`,
        unit: 'us',
        value: median(tapRtts),
        floorName: 'kernel echo (netns)',
        floor: median(floor),
        compare: 'ratio',
        target: 2,
      },
      {
        name: `${target} tap RTT p99 (kernel ping)`,
        unit: 'us',
        value: percentile(tapRtts, 99),
        floorName: 'kernel echo p99',
        floor: percentile(floor, 99),
        compare: 'ratio',
      },
    );
  } finally {
    tn.close();
  }
  return rows;
}

/** Frames per second from a netbench guest into a tap interface (counted by the kernel). */
// Synchronous inside (spawnSync and the kernel's counters); async to fit bench/run.ts's section().
// eslint-disable-next-line @typescript-eslint/require-await -- the signature every row function shares
export async function tapThroughputRows(target: Target): Promise<Row[]> {
  if (tapUnavailable()) return [];
  const tn = createTapNamespace();
  const rows: Row[] = [];
  try {
    const stat = () =>
      Number(spawnSync('ip', tn.exec(['cat', `/sys/class/net/${tn.tap}/statistics/rx_packets`]).slice(1), { encoding: 'utf8' }).stdout);
    for (const size of [64, 1500]) {
      const count = 300_000;
      const before = stat();
      const cmd = tn.exec([
        process.execPath,
        path.join(root, 'dist', 'bin', `solo5-${target}.js`),
        '--mem=64',
        `--net:service=${tn.tap}`,
        kernel('netbench', target),
        '--solo5:quiet',
        'tx',
        String(count),
        String(size),
      ]);
      const t0 = process.hrtime.bigint();
      const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: 120000 });
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const delivered = stat() - before;
      const guestRate = parseKv(r.stdout, 'sent') / (parseKv(r.stdout, 'ns') / 1e9);
      rows.push({
        name: `${target} guest->tap ${size} B frames (${delivered} of ${count} seen by the kernel)`,
        unit: 'pkt/s',
        value: guestRate,
        floorName: 'whole run incl. start-up',
        floor: delivered / secs,
        compare: 'ratio',
      });
    }
  } finally {
    tn.close();
  }
  return rows;
}
