// virtio.ts: virtio hello under QEMU, launch to exit through runVirtio and through the CLI, against the same QEMU command line started by hand.
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import path from 'node:path';
import { findQemu, kvmSlow, kvmUnusable } from '../lib/virtio/kvm-probe';
import { qemuArgv, type Accel } from '../lib/virtio/qemu-args';
import { runVirtio } from '../lib/virtio/run';
import { median, notRun, sample, type Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const hello = path.join(root, 'guest', 'build', 'solo5', 'hello.virtio');
const cli = path.join(root, 'dist', 'bin', 'solo5-virtio-run.js');
const MEM = 32;

/** Why no virtio row can run here, or undefined. */
export function virtioUnavailable(): string | undefined {
  try {
    findQemu();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function spawnStatus(cmd: string, args: string[], want: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'] });
    c.on('error', reject);
    c.on('close', (code) => (code === want ? resolve() : reject(new Error(`${cmd} exited ${code}, not ${want}`))));
  });
}

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

async function rows(accel: Accel, n: number, slow?: string): Promise<Row[]> {
  const qemu = findQemu();
  const { argv } = qemuArgv({
    kernel: hello,
    cmdline: 'bench',
    memMiB: MEM,
    accel,
    devices: [{ kind: 'serial-stdio' }, { kind: 'debug-exit' }],
  });
  const floor: number[] = [];
  const api: number[] = [];
  const viaCli: number[] = [];
  const flag = accel === 'kvm' ? 'kvm' : 'qemu';
  // Interleaved rounds, so that machine noise hits floor and measurement alike; a slow KVM gets no warm-up runs.
  const rounds = Math.min(5, n);
  const warmup = slow === undefined ? 1 : 0;
  for (let round = 0; round < rounds; round++) {
    const k = Math.max(1, Math.ceil(n / rounds));
    floor.push(...(await sample(k, warmup, () => spawnStatus(qemu, argv, 83))));
    api.push(
      ...(await sample(k, warmup, async () => {
        const e = await runVirtio({
          kernel: hello,
          args: ['bench'],
          memMiB: MEM,
          accel: accel === 'kvm' ? 'kvm' : 'tcg',
          blocks: new Map(),
          nets: new Map(),
          quiet: true,
          out: sink(),
        });
        if (e.status !== 0) throw new Error(`virtio hello exited ${e.status}`);
      })),
    );
    viaCli.push(
      ...(await sample(k, warmup, () => spawnStatus(process.execPath, [cli, '-q', '-H', flag, '-m', String(MEM), hello, 'bench'], 0))),
    );
  }
  const what = accel === 'kvm' ? (slow === undefined ? 'KVM' : 'KVM (PVM: ring 0 emulated)') : 'TCG';
  return [
    {
      name: `virtio hello launch-to-exit under ${what}, API (n=${api.length})`,
      unit: 'ms',
      value: median(api),
      floorName: 'the same QEMU argv by hand',
      floor: median(floor),
      compare: 'ratio',
      target: 1.1,
    },
    {
      name: `solo5-virtio-run CLI hello under ${what}, whole process (n=${viaCli.length})`,
      unit: 'ms',
      value: median(viaCli),
      floorName: 'the same QEMU argv by hand',
      floor: median(floor),
      compare: 'ratio',
    },
  ];
}

/**
 * TCG always; KVM where the probe passes. On PVM, where KVM emulates all a
 * virtio guest runs (seconds per run), KVM gets two runs of each kind; where
 * KVM is unusable its row says why.
 */
export async function virtioBootRows(n: number): Promise<Row[]> {
  const out = await rows('tcg', n);
  const unusable = kvmUnusable();
  if (unusable !== undefined) return [...out, notRun('virtio hello launch-to-exit under KVM', unusable)];
  const slow = kvmSlow();
  return [...out, ...(await rows('kvm', slow === undefined ? n : 2, slow))];
}
