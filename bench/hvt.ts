// hvt.ts: the hvt columns: boot time against its absolute target, devices against spt measured in the same run.
import fs from 'node:fs';
import path from 'node:path';
import { run } from '../lib';
import type { Row } from './stats';
import { median, sample } from './stats';

const root = path.resolve(__dirname, '..', '..');

/** Why hvt cannot be measured here, or undefined. */
export function hvtUnavailable(): string | undefined {
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return 'no accessible /dev/kvm';
  }
  return fs.existsSync(path.join(root, 'guest', 'build', 'hello.hvt')) ? undefined : 'hvt unikernels not built';
}

async function helloMs(n: number, kernel: string): Promise<number> {
  const runs = await sample(n, 3, async () => {
    const r = await run({ kernel, target: 'hvt', args: ['bench'], memMB: 64 });
    if (r.exit.status !== 0) throw new Error(`${kernel} exited ${r.exit.status}: ${r.output.slice(-200)}`);
  });
  return median(runs);
}

export async function hvtBootRows(n: number): Promise<Row[]> {
  const ring = await helloMs(n, path.join(root, 'guest', 'build', 'hello.hvt'));
  const rows: Row[] = [
    {
      name: `hvt hello launch-to-exit, API (n=${n})`,
      unit: 'ms',
      value: ring,
      floorName: 'target',
      floor: 15,
      compare: 'ratio',
      target: 1,
    },
  ];
  // The Solo5-ABI build (upstream's hvt ABI 2, guest/bindings/solo5hvt) against the ring-ABI one of this run.
  const solo5 = path.join(root, 'guest', 'build', 'solo5', 'hello.hvt');
  if (fs.existsSync(solo5)) {
    rows.push({
      name: `Solo5-ABI hvt hello launch-to-exit, API (n=${n})`,
      unit: 'ms',
      value: await helloMs(n, solo5),
      floorName: 'ring-ABI hvt hello, same run',
      floor: ring,
      compare: 'ratio',
      target: 1.2,
    });
  }
  return rows;
}

/** Re-express hvt rows against the spt row of the same name (ratio hvt/spt, at least 0.5: within 2x). */
export function againstSpt(hvt: Row[], spt: Row[]): Row[] {
  return hvt.map((h) => {
    const s = spt.find((r) => r.name === h.name.replace(/^hvt /, 'spt '));
    if (!s) return { ...h, target: undefined };
    return { ...h, floorName: 'spt, same run', floor: s.value, compare: 'ratio', target: 0.5, direction: 'min' };
  });
}
