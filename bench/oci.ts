// oci.ts: `podman run --rm` of the hello image with solo5-oci, against a static /true from a scratch image with runc, named explicitly.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, sample, type Row } from './stats';

const root = path.resolve(__dirname, '..', '..');
const hello = path.join(root, 'guest', 'build', 'hello.spt');
/** The front door: start and delete of a monitorless container without a node start-up (addon/oci/oci_front.c). */
const oci = path.join(root, 'addon', 'oci', 'build', 'solo5-oci');
const PODMAN = ['--cgroup-manager=cgroupfs'];
const RUN = ['run', '--rm', '--network=none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000'];

function podman(args: string[]): void {
  const r = spawnSync('podman', [...PODMAN, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`podman ${args[0]} exited ${r.status}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
}

/** Why the OCI row cannot be measured here, or undefined. */
export function ociUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (spawnSync('sh', ['-c', 'command -v podman && command -v gcc && command -v runc'], { stdio: 'ignore' }).status !== 0)
    return 'podman, gcc or runc is missing';
  if (!fs.existsSync(oci)) return 'addon/oci/build/solo5-oci is not built';
  return fs.existsSync(hello) ? undefined : 'guest/build/hello.spt is not built';
}

/** One image with hello.spt and a static /true (a scratch image has no libc for /bin/true). */
function buildImage(dir: string, tag: string): void {
  fs.copyFileSync(hello, path.join(dir, 'hello.spt'));
  fs.writeFileSync(path.join(dir, 'true.c'), 'int main(void) { return 0; }\n');
  const cc = spawnSync('gcc', ['-static', '-O2', '-o', path.join(dir, 'true'), path.join(dir, 'true.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  fs.writeFileSync(path.join(dir, 'Containerfile'), 'FROM scratch\nCOPY hello.spt true /\nCMD ["/hello.spt"]\n');
  podman(['build', '-q', '-t', tag, dir]);
}

export async function ociRows(n: number): Promise<Row[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-oci-bench-'));
  const tag = `localhost/solo5-oci-bench-${process.pid}`;
  try {
    buildImage(dir, tag);
    const floorRuns: number[] = [];
    const uniRuns: number[] = [];
    const rounds = 3;
    const per = Math.max(3, Math.ceil(n / rounds));
    // Interleaved, so that the machine's load hits both alike.
    for (let r = 0; r < rounds; r++) {
      // runc by name: podman's default may be crun, which refuses hybrid cgroups (these machines).
      floorRuns.push(...(await sample(per, 1, () => podman([...RUN, '--runtime=runc', tag, '/true']))));
      uniRuns.push(...(await sample(per, 1, () => podman([...RUN, `--runtime=${oci}`, tag]))));
    }
    return [
      {
        name: `podman run --rm hello, solo5-oci (n=${uniRuns.length})`,
        unit: 'ms',
        value: median(uniRuns),
        floorName: 'podman run --rm /true, runc',
        floor: median(floorRuns),
        compare: 'ratio',
        target: 1.2,
      },
    ];
  } finally {
    spawnSync('podman', [...PODMAN, 'rmi', '-f', tag], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
