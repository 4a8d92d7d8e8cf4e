// oci-docker.test.ts: Docker 20.10 (Debian's docker.io) with --add-runtime solo5, its default bridge networking and restart policy.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { app, exists, root } from './support/paths';
import { appears, needRoot, ociFront, processesWith } from './support/oci';
import { buildNetip } from './support/oci-net';

const DOCKER = '/usr/bin/docker';
const apps = ['hello', 'exitcode', 'sleep'];
const missing =
  needRoot('dockerd', 'podman', 'nsenter') ??
  (!fs.existsSync(DOCKER) ? `${DOCKER} is not installed (docker.io)` : undefined) ??
  (!exists(ociFront) ? 'addon/oci/build/solo5-oci is not built' : undefined) ??
  (apps.some((a) => !exists(app(a))) ? `guest/build/{${apps.join(',')}}.spt are not built` : undefined);

t.test('Docker is present where CI installs it', { skip: process.env.CI !== 'true' && 'not under CI' }, (t) => {
  t.equal(missing, undefined, '.ci/install-oci.sh installs docker.io and podman');
  t.end();
});

/** Resolves with what `docker ARGS` printed once it printed `text` `times` times (docker logs -f, docker events). */
function streamShows(docker: string[], args: string[], text: string, times = 1): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(docker[0], [...docker.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const seen = () => out.split(text).length - 1 >= times;
    const take = (d: Buffer) => {
      out += d.toString('utf8');
      if (seen()) {
        p.kill();
        resolve(out);
      }
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    p.on('exit', () => (seen() ? resolve(out) : reject(new Error(`docker ${args[0]} ended without '${text}' x${times}: ${out}`))));
  });
}

t.test('docker run --runtime=solo5 with the default bridge network', { skip: missing ?? false }, async (t) => {
  const seed = Math.floor(Math.random() * 1e6);
  t.comment(`seed ${seed}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-dk-'));
  const netns = `sn-dk-${seed}`;
  const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  t.equal(sh(`ip netns add ${netns} && ip -n ${netns} link set lo up`).status, 0, 'a private network namespace for dockerd');
  const sock = path.join(dir, 'd.sock');
  const docker = [DOCKER, '-H', `unix://${sock}`];
  const run = (args: string[]) => spawnSync(docker[0], [...docker.slice(1), ...args], { encoding: 'utf8' });
  // nsenter, not `ip netns exec`, which remounts /sys and stops dockerd; every root of its own under dir.
  const daemon: ChildProcess = spawn(
    'nsenter',
    [
      `--net=/run/netns/${netns}`,
      'dockerd',
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '--pidfile',
      path.join(dir, 'pid'),
      '-H',
      `unix://${sock}`,
      '--add-runtime',
      `solo5=${ociFront}`,
    ],
    { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'dockerd.log'), 'w')] },
  );
  t.teardown(async () => {
    const ids = run(['ps', '-aq'])
      .stdout.trim()
      .split('\n')
      .filter((x) => x !== '');
    if (ids.length > 0) run(['rm', '-f', ...ids]);
    const gone = new Promise((resolve) => (daemon.exitCode !== null ? resolve(null) : daemon.once('exit', resolve)));
    daemon.kill('SIGTERM');
    await gone;
    sh(`ip netns del ${netns}`);
    sh(`grep -o ' ${dir}/[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await appears(sock, 60_000);
  const img = path.join(dir, 'img');
  fs.mkdirSync(img);
  for (const a of apps) fs.copyFileSync(app(a), path.join(img, `${a}.spt`));
  buildNetip(img, 'solo5');
  fs.writeFileSync(
    path.join(img, 'Containerfile'),
    `FROM scratch\nCOPY ${apps.map((a) => `${a}.spt`).join(' ')} netip-solo5.spt /\nCMD ["/hello.spt"]\n`,
  );
  const tag = `localhost/sn-dk-${seed}:1`;
  const podman = (args: string[]) => spawnSync('podman', ['--cgroup-manager=cgroupfs', ...args], { encoding: 'utf8' });
  t.equal(podman(['build', '-q', '-t', tag, img]).status, 0, 'podman build');
  const saved = podman(['save', '-q', '--format', 'docker-archive', '-o', path.join(dir, 'img.tar'), tag]);
  podman(['rmi', '-f', tag]);
  t.equal(saved.status, 0, `podman save (${saved.stderr.trim()})`);
  t.equal(run(['load', '-q', '-i', path.join(dir, 'img.tar')]).status, 0, 'docker load');
  const RUN = ['run', '--runtime=solo5'];

  // Docker adds its libnetwork-setkey prestart hook to every container on its bridge: the hook runs, the guest too.
  const hello = run([...RUN, '--rm', tag]);
  t.equal(hello.status, 0, `hello exits 0 (${hello.stderr.trim()})`);
  t.match(hello.stdout, /Hello, World\n/, 'the console reaches docker');
  t.equal(run([...RUN, '--rm', tag, '/exitcode.spt', '42']).status, 42, "the guest's exit code passes through");

  const d = run([...RUN, '-d', tag, '/sleep.spt', '600000']);
  t.equal(d.status, 0, `run -d (${d.stderr.trim()})`);
  const id = d.stdout.trim();
  await streamShows(docker, ['logs', '-f', id], 'READY');
  t.pass('docker logs shows the guest');
  const t0 = Date.now();
  t.equal(run(['stop', '-t', '10', id]).status, 0, 'docker stop');
  t.ok(Date.now() - t0 < 10_000, `stopped by SIGTERM within the timeout (${Date.now() - t0} ms)`);
  t.equal(run(['inspect', '-f', '{{.State.ExitCode}}', id]).stdout.trim(), '143', 'exit code 128 + SIGTERM');
  t.equal(run(['rm', id]).status, 0, 'docker rm');

  // --restart=on-failure:2: three runs of a guest that exits 3, the container restarted in place each time.
  const since = run(['system', 'info', '-f', '{{.SystemTime}}']).stdout.trim();
  const r = run([...RUN, '-d', '--restart=on-failure:2', tag, '/exitcode.spt', '3']);
  t.equal(r.status, 0, `run -d --restart (${r.stderr.trim()})`);
  const rid = r.stdout.trim();
  await streamShows(docker, ['events', '--since', since, '--filter', `container=${rid}`, '--filter', 'event=die'], 'die', 3);
  t.equal(run(['inspect', '-f', '{{.RestartCount}} {{.State.ExitCode}}', rid]).stdout.trim(), '2 3', 'restarted twice, exit code 3');
  t.equal((run(['logs', rid]).stdout.match(/exiting with 3/g) ?? []).length, 3, 'three runs in its log');
  t.equal(run(['rm', '-f', rid]).status, 0, 'docker rm -f');

  // A net guest on the default bridge: Docker's prestart hook puts eth0 in the container's fresh namespace, then it is wired.
  for (const how of ['stop + rm', 'rm -f']) {
    const n = run([...RUN, '-d', tag, '/netip-solo5.spt']);
    t.equal(n.status, 0, `${how}: run -d of a net guest (${n.stderr.trim()})`);
    const nid = n.stdout.trim();
    const ip = run(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', nid]).stdout.trim();
    t.match(ip, /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/, `the container's IP on the bridge: ${ip}`);
    await streamShows(docker, ['logs', '-f', nid], `ip ${ip}`);
    const ping = spawnSync('nsenter', [`--net=/run/netns/${netns}`, 'python3', path.join(root, 'test', 'support', 'kping.py'), ip, '1'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    t.match(ping.stdout, /sent=1 received=1/, "the guest answers ping at the container's IP, from dockerd's namespace");
    // Hold the container's namespace past Docker's release of it, to see what the runtime left in it.
    const pid = run(['inspect', '-f', '{{.State.Pid}}', nid]).stdout.trim();
    const holder = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, 'sleep', '600'], { stdio: 'ignore' });
    t.teardown(() => void holder.kill('SIGKILL'));
    const inNs = (cmd: string) => sh(`nsenter --net=/proc/${holder.pid}/ns/net ${cmd}`).stdout;
    const end = Date.now() + 10_000;
    while (!inNs('ip -o link show').includes('snoci') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    t.match(inNs('ip -o link show'), /snoci0/, 'while it runs, its tap is in the held namespace');
    if (how === 'stop + rm') {
      t.equal(run(['stop', '-t', '10', nid]).status, 0, 'docker stop of the net guest');
      t.equal(run(['rm', nid]).status, 0, 'docker rm');
    } else t.equal(run(['rm', '-f', nid]).status, 0, 'docker rm -f of the net guest (SIGKILL)');
    t.notMatch(inNs('ip -o link show'), /snoci/, `${how}: no tap is left in its namespace`);
    t.notMatch(inNs('tc qdisc show'), /ingress/, `${how}: no ingress qdisc (mirred redirect) is left in its namespace`);
    holder.kill('SIGKILL');
  }
  t.same(
    processesWith(dir).filter((p) => !/^(dockerd|nsenter|containerd)\0/.test(fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'))),
    [],
    'no shim or guest is left',
  );
});
