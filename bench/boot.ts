// boot.ts: launch-to-exit of hello through the API and the CLI, against spawn floors measured in the same run.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { run } from '../lib';
import { median, sample, type Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const hello = path.join(root, 'guest', 'build', 'hello.spt');
const cli = path.join(root, 'dist', 'bin', 'solo5-spt.js');

export function spawnWait(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

export async function bootRows(n: number): Promise<Row[]> {
  const trueRuns: number[] = [];
  const apiRuns: number[] = [];
  // Interleave floor and measurement so that machine noise hits both alike.
  for (let round = 0; round < 5; round++) {
    trueRuns.push(...(await sample(Math.ceil(n / 5), 3, () => spawnWait('/bin/true', []))));
    apiRuns.push(
      ...(await sample(Math.ceil(n / 5), 3, async () => {
        const r = await run({ kernel: hello, args: ['bench'], memMB: 64 });
        if (r.exit.status !== 0) throw new Error(`hello exited ${r.exit.status}`);
      })),
    );
  }
  const cliN = Math.max(20, Math.ceil(n / 2));
  const nodeRuns: number[] = [];
  const cliRuns: number[] = [];
  for (let round = 0; round < 5; round++) {
    nodeRuns.push(...(await sample(Math.ceil(cliN / 5), 1, () => spawnWait(process.execPath, ['-e', '0']))));
    cliRuns.push(...(await sample(Math.ceil(cliN / 5), 1, () => spawnWait(process.execPath, [cli, '--mem=64', hello, 'bench']))));
  }
  return [
    {
      name: `spt hello launch-to-exit, API (n=${apiRuns.length})`,
      unit: 'ms',
      value: median(apiRuns),
      floorName: 'spawn /bin/true',
      floor: median(trueRuns),
      compare: 'ratio',
      target: 1.5,
    },
    {
      name: `solo5-spt CLI hello, whole process (n=${cliRuns.length})`,
      unit: 'ms',
      value: median(cliRuns),
      floorName: 'node -e 0',
      floor: median(nodeRuns),
      compare: 'diff',
      target: 25,
    },
  ];
}
