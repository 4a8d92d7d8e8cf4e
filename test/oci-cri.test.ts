// oci-cri.test.ts: whole pods through containerd's CRI with a `solo5` runtime handler, driven by the calls kubelet makes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { app, exists, root } from './support/paths';
import { needRoot, ociFront, processesWith, tmpBase } from './support/oci';
import { criMissing, startCri, type Cri } from './support/oci-cri';
import { buildNetip } from './support/oci-net';

const PODMAN = ['--cgroup-manager=cgroupfs'];
const apps = ['hello', 'exitcode', 'sleep'];
const missing =
  needRoot() ??
  criMissing() ??
  (!exists(ociFront) ? 'addon/oci/build/solo5-oci is not built' : undefined) ??
  (apps.some((a) => !exists(app(a))) ? `guest/build/{${apps.join(',')}}.spt are not built` : undefined);

t.test('the CRI engine is present where CI installs it', { skip: process.env.CI !== 'true' && 'not under CI' }, (t) => {
  t.equal(missing, undefined, '.ci/install-oci.sh installs containerd, runc, podman, the CNI plugins and python3-grpcio');
  t.end();
});

/** One image: a static pause (the sandbox, CMD) and the unikernels, saved as an OCI archive for ctr to import. */
function image(dir: string, tag: string): string {
  fs.writeFileSync(
    path.join(dir, 'pause.c'),
    '#include <signal.h>\n#include <unistd.h>\nstatic void done(int s) { (void)s; _exit(0); }\nint main(void) { signal(SIGTERM, done); signal(SIGINT, done); for (;;) pause(); }\n',
  );
  const cc = spawnSync('gcc', ['-static', '-O2', '-o', path.join(dir, 'pause'), path.join(dir, 'pause.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  for (const a of apps) fs.copyFileSync(app(a), path.join(dir, `${a}.spt`));
  buildNetip(dir, 'solo5');
  fs.writeFileSync(
    path.join(dir, 'Containerfile'),
    `FROM scratch\nCOPY pause ${apps.map((a) => `${a}.spt`).join(' ')} netip-solo5.spt /\nCMD ["/pause"]\n`,
  );
  const run = (args: string[]) => {
    const r = spawnSync('podman', [...PODMAN, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`podman ${args[0]}: ${r.stderr}`);
  };
  run(['build', '-q', '-t', tag, dir]);
  const archive = path.join(dir, 'image.tar');
  try {
    run(['save', '-q', '--format', 'oci-archive', '-o', archive, tag]);
  } finally {
    spawnSync('podman', [...PODMAN, 'rmi', '-f', tag], { stdio: 'ignore' });
  }
  return archive;
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

interface Status {
  state: string;
  exit_code: number;
  reason: string;
  log_path: string;
}

async function status(cri: Cri, id: string): Promise<Status> {
  return (await cri.call('ContainerStatus', { container_id: id })).status as Status;
}

/** CRI 1.6 has no container events: ask until the state is `want` (bounded). */
async function until(cri: Cri, id: string, want: string, ms = 20_000): Promise<Status> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await status(cri, id);
    if (s.state === want || Date.now() > end) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('containerd CRI, runtime handler solo5: pause by runc, unikernels by solo5-oci', { skip: missing ?? false }, async (t) => {
  const seed = Math.floor(Math.random() * 1e6);
  t.comment(`seed ${seed}`);
  const tag = `localhost/sn-cri-${seed}:1`;
  const base = tmpBase(t);
  const cri = await startCri(t, seed, ociFront, tag, [image(base, tag)]);
  const logs = path.join(cri.dir, 'pods');
  const sandboxConfig = (name: string) => ({
    metadata: { name, uid: `${name}-${seed}`, namespace: 'default', attempt: 0 },
    log_directory: path.join(logs, name),
  });
  const pod = async (name: string) => {
    const r = await cri.call('RunPodSandbox', { config: sandboxConfig(name), runtime_handler: 'solo5' });
    return r.pod_sandbox_id as string;
  };
  const container = async (podId: string, podName: string, name: string, command: string[], attempt = 0) => {
    const r = await cri.call('CreateContainer', {
      pod_sandbox_id: podId,
      config: {
        metadata: { name, attempt },
        image: { image: tag },
        command,
        log_path: `${name}/${attempt}.log`,
        linux: { resources: { memory_limit_in_bytes: 32 << 20 } },
      },
      sandbox_config: sandboxConfig(podName),
    });
    const id = r.container_id as string;
    await cri.call('StartContainer', { container_id: id });
    return id;
  };

  // A hello pod, whole: the sandbox (pause) through runc, the unikernel through solo5-oci.
  const p1 = await pod('hello');
  const hello = await container(p1, 'hello', 'hello', ['/hello.spt', 'from', 'CRI']);
  const done = await until(cri, hello, 'CONTAINER_EXITED');
  t.equal(done.state, 'CONTAINER_EXITED', 'the container exits (and does not stay RUNNING after kill --all)');
  t.equal(done.exit_code, 0, 'exit code 0');
  t.match(fs.readFileSync(done.log_path, 'utf8'), /^\S+ stdout F Command line is: 'from CRI'$/m, 'the console in CRI log format');
  const code = await container(p1, 'hello', 'code', ['/exitcode.spt', '42']);
  t.equal((await until(cri, code, 'CONTAINER_EXITED')).exit_code, 42, "the guest's exit code passes through");
  for (const id of [hello, code]) await cri.call('RemoveContainer', { container_id: id });
  await cri.call('StopPodSandbox', { pod_sandbox_id: p1 });
  await cri.call('RemovePodSandbox', { pod_sandbox_id: p1 });

  // A long-running guest stopped within its timeout; a net guest at its pod IP, restarted in the same sandbox.
  const p2 = await pod('net');
  const sleeper = await container(p2, 'net', 'sleep', ['/sleep.spt', '600000']);
  t.equal((await until(cri, sleeper, 'CONTAINER_RUNNING')).state, 'CONTAINER_RUNNING', 'running');
  const t0 = Date.now();
  await cri.call('StopContainer', { container_id: sleeper, timeout: 5 });
  const stopped = await status(cri, sleeper);
  t.equal(stopped.state, 'CONTAINER_EXITED', `StopContainer returned with it exited, after ${Date.now() - t0} ms (timeout 5 s)`);
  t.ok(Date.now() - t0 < 5000, 'within the timeout: SIGTERM ends the guest');
  await cri.call('RemoveContainer', { container_id: sleeper });
  const ip = ((await cri.call('PodSandboxStatus', { pod_sandbox_id: p2 })).status as { network: { ip: string } }).network.ip;
  t.match(ip, /^10\.215\./, `the pod's IP from CNI: ${ip}`);
  for (const attempt of [0, 1]) {
    const net = await container(p2, 'net', 'netip', ['/netip-solo5.spt'], attempt);
    const log = path.join(logs, 'net', 'netip', `${attempt}.log`);
    const end = Date.now() + 20_000;
    while (!(fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes(`ip ${ip}`)) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50));
    const ping = spawnSync(
      'nsenter',
      [`--net=/run/netns/${cri.netns}`, 'python3', path.join(root, 'test', 'support', 'kping.py'), ip, '1'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    t.match(ping.stdout, /sent=1 received=1/, `attempt ${attempt}: the unikernel answers at the pod IP`);
    await cri.call('StopContainer', { container_id: net, timeout: 10 });
    await cri.call('RemoveContainer', { container_id: net });
  }
  await cri.call('StopPodSandbox', { pod_sandbox_id: p2 });
  await cri.call('RemovePodSandbox', { pod_sandbox_id: p2 });
  // The shims end on their own once their pod is removed: wait for that (bounded), then nothing of the pods may be left.
  const left = () => processesWith(cri.dir).filter((p) => !/^(containerd|nsenter)\0|cri\.py\0/.test(cmdline(p)));
  const end = Date.now() + 10_000;
  while (left().length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  t.same(left().map(cmdline), [], 'no shim, guest or runc is left once the pods are removed');
});
