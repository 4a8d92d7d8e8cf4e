// cri.ts: a whole pod through containerd's CRI, RunPodSandbox to the container's exit: hello by solo5-oci against a static /true by runc.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { criImage, criMissing, criPods, startCri } from '../test/support/oci-cri';
import { median, nowMs, type Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const hello = path.join(root, 'guest', 'build', 'hello.spt');
/** The front door (addon/oci/oci_front.c), as containerd's BinaryName in docs/kubernetes.md. */
const oci = path.join(root, 'addon', 'oci', 'build', 'solo5-oci');

/** Why the CRI row cannot be measured here, or undefined. */
export function criUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  const missing = criMissing();
  if (missing !== undefined) return missing;
  if (!fs.existsSync(oci)) return 'addon/oci/build/solo5-oci is not built';
  return fs.existsSync(hello) ? undefined : 'guest/build/hello.spt is not built';
}

/** The four steps of one pod, in ms: RunPodSandbox, CreateContainer, StartContainer, then until ContainerStatus says it exited. */
type Steps = [number, number, number, number];
const STEPS = ['RunPodSandbox', 'CreateContainer', 'StartContainer', 'exit seen'];

export async function criRows(n: number): Promise<Row[]> {
  const teardowns: (() => void | Promise<void>)[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-cri-bench-'));
  const seed = process.pid;
  const tag = `localhost/sn-cri-bench-${seed}:1`;
  try {
    const cri = await startCri({ teardown: (f) => teardowns.push(f) }, seed, oci, tag, [criImage(dir, tag, [hello])]);
    const { pod, create, until, remove } = criPods(cri, seed, tag);
    let count = 0;
    /** One pod through `handler` running `command`, removed afterwards (untimed). */
    const onePod = async (handler: string, command: string[]): Promise<Steps> => {
      const name = `b${count++}`;
      const t0 = nowMs();
      const id = await pod(name, handler);
      const t1 = nowMs();
      const c = await create(id, name, 'c', command);
      const t2 = nowMs();
      await cri.call('StartContainer', { container_id: c });
      const t3 = nowMs();
      const s = await until(c, 'CONTAINER_EXITED', 30_000, 5);
      const t4 = nowMs();
      if (s.state !== 'CONTAINER_EXITED' || s.exit_code !== 0)
        throw new Error(`${handler} ${command[0]}: ${s.state} ${s.exit_code} ${s.reason}`);
      await remove(id);
      return [t1 - t0, t2 - t1, t3 - t2, t4 - t3];
    };
    const floor: Steps[] = [];
    const uni: Steps[] = [];
    // One of each unmeasured (the first pod pays for the image's snapshot), then interleaved.
    await onePod('runc', ['/true']);
    await onePod('solo5', ['/hello.spt']);
    for (let i = 0; i < n; i++) {
      floor.push(await onePod('runc', ['/true']));
      uni.push(await onePod('solo5', ['/hello.spt']));
    }
    const total = (runs: Steps[]) => median(runs.map((s) => s.reduce((a, b) => a + b, 0)));
    const steps = (runs: Steps[]) => STEPS.map((name, i) => `${name} ${median(runs.map((s) => s[i])).toFixed(0)}`).join(', ');
    console.log(`(cri steps, median ms: runc /true: ${steps(floor)}; solo5-oci hello: ${steps(uni)})`);
    return [
      {
        name: `CRI pod, RunPodSandbox to exit, hello by solo5-oci (n=${n})`,
        unit: 'ms',
        value: total(uni),
        floorName: 'the same pod, static /true by runc',
        floor: total(floor),
        compare: 'ratio',
        target: 1.5,
      },
    ];
  } finally {
    for (const f of teardowns.reverse()) await f();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
