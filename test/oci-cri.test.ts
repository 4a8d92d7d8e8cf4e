// oci-cri.test.ts: whole pods through containerd's CRI with a `solo5` runtime handler, driven by the calls kubelet makes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { app, exists, root } from './support/paths';
import { needRoot, ociFront, processesWith, tmpBase } from './support/oci';
import { criImage, criMissing, criPods, startCri } from './support/oci-cri';

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

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

t.test('containerd CRI, runtime handler solo5: pause by runc, unikernels by solo5-oci', { skip: missing ?? false }, async (t) => {
  const seed = Math.floor(Math.random() * 1e6);
  t.comment(`seed ${seed}`);
  const tag = `localhost/sn-cri-${seed}:1`;
  const base = tmpBase(t);
  const cri = await startCri(t, seed, ociFront, tag, [
    criImage(
      base,
      tag,
      apps.map((a) => app(a)),
      true,
    ),
  ]);
  const { logs, status, pod, create, until, remove } = criPods(cri, seed, tag);
  const container = async (podId: string, podName: string, name: string, command: string[], attempt = 0) => {
    const id = await create(podId, podName, name, command, attempt);
    await cri.call('StartContainer', { container_id: id });
    return id;
  };

  // A hello pod, whole: the sandbox (pause) through runc, the unikernel through solo5-oci.
  const p1 = await pod('hello');
  const hello = await container(p1, 'hello', 'hello', ['/hello.spt', 'from', 'CRI']);
  const done = await until(hello, 'CONTAINER_EXITED');
  t.equal(done.state, 'CONTAINER_EXITED', 'the container exits (and does not stay RUNNING after kill --all)');
  t.equal(done.exit_code, 0, 'exit code 0');
  t.match(fs.readFileSync(done.log_path, 'utf8'), /^\S+ stdout F Command line is: 'from CRI'$/m, 'the console in CRI log format');
  const code = await container(p1, 'hello', 'code', ['/exitcode.spt', '42']);
  t.equal((await until(code, 'CONTAINER_EXITED')).exit_code, 42, "the guest's exit code passes through");
  for (const id of [hello, code]) await cri.call('RemoveContainer', { container_id: id });
  await remove(p1);

  // A long-running guest stopped within its timeout; a net guest at its pod IP, restarted in the same sandbox.
  const p2 = await pod('net');
  const sleeper = await container(p2, 'net', 'sleep', ['/sleep.spt', '600000']);
  t.equal((await until(sleeper, 'CONTAINER_RUNNING')).state, 'CONTAINER_RUNNING', 'running');
  const t0 = Date.now();
  await cri.call('StopContainer', { container_id: sleeper, timeout: 5 });
  const stopped = await status(sleeper);
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
  await remove(p2);
  // The shims end on their own once their pod is removed: wait for that (bounded), then nothing of the pods may be left.
  const left = () => processesWith(cri.dir).filter((p) => !/^(containerd|nsenter)\0|cri\.py\0/.test(cmdline(p)));
  const end = Date.now() + 10_000;
  while (left().length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  t.same(left().map(cmdline), [], 'no shim, guest or runc is left once the pods are removed');
});
