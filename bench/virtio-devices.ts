// virtio-devices.ts: 4 KiB block I/O and ping -f on virtio under QEMU, beside the same Solo5-ABI app on spt and hvt: same counts, same run.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../lib';
import { kvmSlow, kvmUnusable } from '../lib/virtio/kvm-probe';
import { hvtNetCommand } from './hvtring';
import { hvtUnavailable } from './hvt';
import { createTapNamespace, pingFlood, tapUnavailable, type TapNamespace } from './netns';
import { median, notRun, type Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const solo5 = (app: string, target: string) => path.join(root, 'guest', 'build', 'solo5', `${app}.${target}`);
const cli = (name: string) => path.join(root, 'dist', 'bin', `${name}.js`);
type Where = 'spt' | 'hvt' | 'virtio';

/** The accelerator solo5-virtio-run picks here, as the -H value and as a name for the rows. */
function accel(): { flag: string; name: string } {
  return kvmUnusable() === undefined && kvmSlow() === undefined ? { flag: 'kvm', name: 'KVM' } : { flag: 'qemu', name: 'TCG' };
}

function kv(out: string, key: string): number {
  const m = new RegExp(`${key}=(\\d+)`).exec(out);
  if (!m) throw new Error(`no ${key}= in ${JSON.stringify(out.slice(-200))}`);
  return Number(m[1]);
}

/** One blkbench run on `where`, in MB/s as the guest timed it. */
async function blkbench(where: Where, args: string[], img: string): Promise<number> {
  let out: string;
  if (where === 'virtio') {
    const argv = [
      cli('solo5-virtio-run'),
      '-q',
      '-H',
      accel().flag,
      '-m',
      '64',
      `--block:storage=${img}`,
      solo5('blkbench', 'virtio'),
      ...args,
    ];
    out = await new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      c.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`virtio blkbench exited ${code}: ${stderr.trim()}`))));
    });
  } else {
    const r = await run({
      kernel: solo5('blkbench', where),
      target: where,
      args,
      memMB: 64,
      block: { storage: { path: img } },
      timeoutMs: 600_000,
    });
    if (r.exit.status !== 0) throw new Error(`${where} blkbench exited ${r.exit.status}: ${r.output.slice(-200)}`);
    out = r.output;
  }
  return kv(out, 'bytes') / 1048576 / (kv(out, 'ns') / 1e9);
}

/** virtio's figure against spt's and hvt's, each a row; hvt's says why when it could not run. */
function beside(name: string, unit: string, ms: Record<Where, number[]>, hvtWhy: string | undefined, dir: 'min' | 'max'): Row[] {
  const row = (vs: 'spt' | 'hvt'): Row => ({
    name: `${name}, against ${vs}`,
    unit,
    value: median(ms.virtio),
    floorName: `${vs}, same app and count`,
    floor: median(ms[vs]),
    compare: 'ratio',
    direction: dir,
  });
  return [row('spt'), hvtWhy === undefined ? row('hvt') : notRun(`${name}, against hvt`, hvtWhy)];
}

/**
 * Sequential 4 KiB writes then reads by the Solo5-ABI blkbench, interleaved
 * spt, hvt, virtio, three runs each. Writes are fewer: QEMU writes through to
 * the file for a guest that does not negotiate a flush (every request is a
 * pwrite and an fdatasync), about a MB/s under TCG here.
 */
export async function virtioBlockRows(readMiB = 64, writeMiB = 16): Promise<Row[]> {
  const hvtWhy = hvtUnavailable();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-bench-'));
  const img = path.join(dir, 'disk.img');
  fs.writeFileSync(img, Buffer.alloc(readMiB << 20, 1));
  const rows: Row[] = [];
  try {
    for (const [op, mib] of [
      ['write', writeMiB],
      ['read', readMiB],
    ] as const) {
      const rate: Record<Where, number[]> = { spt: [], hvt: [], virtio: [] };
      for (let i = 0; i < 3; i++) {
        for (const where of ['spt', 'hvt', 'virtio'] as const) {
          if (where === 'hvt' && hvtWhy !== undefined) continue;
          rate[where].push(await blkbench(where, ['--solo5:quiet', op, '4096', String(mib)], img));
        }
      }
      rows.push(...beside(`virtio block ${op} 4 KiB under ${accel().name} (${mib} MiB)`, 'MB/s', rate, hvtWhy, 'min'));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The command that starts the Solo5-ABI net guest on `where`, answering COUNT echoes on the namespace's tap. */
function netCommand(tn: TapNamespace, where: Where, count: number): string[] {
  const args = ['--solo5:quiet', tn.guestIp, String(count)];
  if (where === 'hvt') return hvtNetCommand(tn, solo5('net', 'hvt'), count, true);
  if (where === 'spt') return [process.execPath, cli('solo5-spt'), '--mem=32', `--net:service=${tn.tap}`, solo5('net', 'spt'), ...args];
  return [process.execPath, cli('solo5-virtio-run'), '-q', '-H', accel().flag, '-m', '32', '-n', tn.tap, solo5('net', 'virtio'), ...args];
}

/** `ping -f -c COUNT` over a tap in the bench's namespace to the Solo5-ABI net guest on each target, three times each. */
export async function virtioPingRows(count: number): Promise<Row[]> {
  const name = `virtio ping -f ${count} over a tap under ${accel().name}`;
  const why = tapUnavailable() ?? (spawnSync('ping', ['-V']).status === 0 ? undefined : 'no ping (iputils-ping)');
  if (why !== undefined) return [notRun(name, why)];
  const hvtWhy = hvtUnavailable();
  const tn = createTapNamespace();
  const ms: Record<Where, number[]> = { spt: [], hvt: [], virtio: [] };
  try {
    for (let i = 0; i < 3; i++) {
      for (const where of ['spt', 'hvt', 'virtio'] as const) {
        if (where === 'hvt' && hvtWhy !== undefined) continue;
        ms[where].push(await pingFlood(tn, netCommand(tn, where, count), count, where));
      }
    }
  } finally {
    tn.close();
  }
  return beside(name, 'ms', ms, hvtWhy, 'max');
}
