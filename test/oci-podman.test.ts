// oci-podman.test.ts: podman runs unikernel images with --runtime=solo5-oci (one image build for every case).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { app, exists, root } from './support/paths';
import { needRoot, ociCli, ociFront, tmpBase } from './support/oci';
import { buildNetip, makeNamespace, sh } from './support/oci-net';

/** The settings this host needs (docs/oci.md): cgroupfs for hybrid cgroups, rlimits without CAP_SYS_RESOURCE. */
const PODMAN = ['--cgroup-manager=cgroupfs'];
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000'];
const RUN = ['run', '--rm', `--runtime=${ociCli}`, ...LIMITS];

function podman(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('podman', [...PODMAN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const skip =
  needRoot('podman') ??
  (!exists(app('hello')) || !exists(app('exitcode')) || !exists(app('seccomp')) || !exists(app('sleep'))
    ? 'guest/build/hello.spt, exitcode.spt, seccomp.spt and sleep.spt are not built'
    : undefined);

t.test('podman run --runtime=solo5-oci', { skip: skip ?? false }, async (t) => {
  const seed = Math.floor(Math.random() * 1e9);
  t.comment(`seed ${seed}`);
  const image = `localhost/solo5-oci-test-${seed}`;
  const ctx = tmpBase(t);
  fs.copyFileSync(app('hello'), path.join(ctx, 'hello.spt'));
  fs.copyFileSync(app('exitcode'), path.join(ctx, 'exitcode.spt'));
  fs.copyFileSync(app('seccomp'), path.join(ctx, 'seccomp.spt'));
  fs.copyFileSync(app('sleep'), path.join(ctx, 'sleep.spt'));
  // The packaged Containerfile plus the other apps, so one build serves every case.
  const file = fs.readFileSync(path.join(root, 'packaging', 'Containerfile'), 'utf8');
  fs.writeFileSync(
    path.join(ctx, 'Containerfile'),
    file.replace('COPY hello.spt /hello.spt', 'COPY hello.spt exitcode.spt seccomp.spt sleep.spt /'),
  );
  const built = podman(['build', '-q', '-t', image, ctx]);
  t.equal(built.status, 0, `podman build (${built.stderr.trim()})`);
  t.teardown(() => void podman(['rmi', '-f', image]));

  const hello = podman([...RUN, image]);
  t.equal(hello.status, 0, `hello exits 0 (${hello.stderr.trim()})`);
  t.match(hello.stdout, /Hello, World\nCommand line is: 'from an OCI image'\nSUCCESS\n/, 'the console reaches podman');

  const code = podman([...RUN, '--network=none', image, '/exitcode.spt', '42']);
  t.equal(code.status, 42, `the guest's exit code passes through (${code.stderr.trim()})`);
  t.match(code.stdout, /exiting with 42/);

  // The guest is the container's process (no monitor): conmon sees its death by SIGSYS as 128 + 31, as upstream's tender reports it.
  const sys = podman([...RUN, '--network=none', image, '/seccomp.spt']);
  t.equal(sys.status, 159, `a guest killed by SIGSYS: 159 (${sys.stderr.trim()})`);

  if (exists(ociFront)) {
    const front = podman(['run', '--rm', `--runtime=${ociFront}`, ...LIMITS, '--network=none', image, '/exitcode.spt', '5']);
    t.equal(front.status, 5, `through the front door (addon/oci) too (${front.stderr.trim()})`);
    t.match(front.stdout, /exiting with 5/);
  } else t.fail(`${ociFront} is not built (npm run build:helper)`);

  // -t: conmon passes --console-socket and reads the pty master; the line discipline's \r\n shows it went through the pty.
  const tty = podman([...RUN, '--network=none', '-t', image, '/exitcode.spt', '3']);
  t.equal(tty.status, 3, `with -t the exit code passes through (${tty.stderr.trim()})`);
  t.match(tty.stdout, /exiting with 3\r\n/, 'with -t the console comes through the pty');

  const mem = podman([...RUN, '--network=none', '--memory=8m', image]);
  t.match(mem.stdout, /memory map: 8 MB addressable/, 'the container memory limit is the guest memory');

  // An idle guest in the container's own cgroup: stats, --cpus and --memory are the guest's.
  const idle = podman([
    'run',
    '-d',
    `--runtime=${ociFront}`,
    ...LIMITS,
    '--network=none',
    '--cpus=0.5',
    '--memory=32m',
    image,
    '/sleep.spt',
    '600000',
  ]);
  t.equal(idle.status, 0, `run -d (${idle.stderr.trim()})`);
  const id = idle.stdout.trim();
  const pid = Number(podman(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
  const cgroups = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  t.match(cgroups, new RegExp(`^[0-9]+:memory:/.*libpod-${id}$`, 'm'), "the guest is in the container's cgroup, not conmon's");
  const cpuDir = /^[0-9]+:(?:cpu,cpuacct|cpu):(.*)$/m.exec(cgroups)?.[1];
  if (cpuDir !== undefined && fs.existsSync(`/sys/fs/cgroup/cpu${cpuDir}/cpu.cfs_quota_us`))
    t.equal(fs.readFileSync(`/sys/fs/cgroup/cpu${cpuDir}/cpu.cfs_quota_us`, 'utf8').trim(), '50000', '--cpus=0.5 is a CFS quota');
  const stats = podman(['stats', '--no-stream', '--format', '{{.CPUPerc}} {{.MemUsage}} {{.PIDs}}', id]);
  t.match(stats.stdout, /^[0-9.]+% [0-9.]+[kMG]?B \/ 33\.55MB 1\n$/, `podman stats: the limit and one process (${stats.stdout.trim()})`);
  t.ok(Number(/^([0-9.]+)%/.exec(stats.stdout)?.[1] ?? 100) < 10, 'an idle guest is idle');
  // podman top (psgo) lists /proc in the container's mount namespace: its pid namespace's, not the host's.
  const top = podman(['top', id, 'pid', 'hpid', 'user', 'args']);
  t.equal(top.status, 0, `podman top (${top.stderr.trim()})`);
  const rows = top.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/));
  t.match(
    rows,
    [
      ['1', String, 'nobody', /\/solo5-oci-init$/],
      ['2', String(pid), 'nobody', 'solo5-guest'],
    ],
    `podman top lists solo5-oci-init and the guest (${top.stdout.trim()})`,
  );
  t.equal(rows.length, 2, 'and nothing else');
  t.notOk(
    rows.some((r) => r[1] === String(process.pid)),
    "not the test runner's own process",
  );
  t.equal(podman(['rm', '-f', id]).status, 0, 'rm -f');
  t.notOk(fs.existsSync(`/sys/fs/cgroup/memory/libpod_parent/libpod-${id}`), 'its cgroup is gone');

  // With -t the monitor is the container's process: pid 1 of the namespace, the guest its child; stop's SIGTERM reaches it.
  const mon = podman(['run', '-d', '-t', `--runtime=${ociFront}`, ...LIMITS, '--network=none', image, '/sleep.spt', '600000']);
  t.equal(mon.status, 0, `run -d -t (${mon.stderr.trim()})`);
  const monId = mon.stdout.trim();
  await logsShow(monId, 'READY');
  const monTop = podman(['top', monId, 'pid', 'user', 'args']);
  const monRows = monTop.stdout.trim().split('\n').slice(1);
  t.equal(monRows.length, 2, `podman top lists two processes (${monTop.stdout.trim()})`);
  t.match(monRows[0], /^1\s+root\s+.*monitor-main/, 'the monitor, as pid 1');
  t.match(monRows[1], /^[0-9]+\s+nobody\s+solo5-guest/, 'the guest');
  t.equal(podman(['stop', '-t', '30', monId]).status, 0, 'podman stop');
  t.equal(podman(['inspect', '-f', '{{.State.ExitCode}}', monId]).stdout.trim(), '143', 'SIGTERM reached the guest through the monitor');
  t.equal(podman(['rm', monId]).status, 0, 'podman rm');

  t.equal(podman(['ps', '-a', '--filter', `ancestor=${image}`, '-q']).stdout.trim(), '', 'no container is left');
});

/** Resolves once `podman logs -f ID` has printed `text`. */
function logsShow(id: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('podman', [...PODMAN, 'logs', '-f', id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      out += d;
      if (out.includes(text)) {
        p.kill();
        resolve();
      }
    });
    p.on('exit', () => (out.includes(text) ? resolve() : reject(new Error(`logs ended without '${text}': ${out}`))));
  });
}

/** ICMP echoes from the host to ADDR: 'sent=N received=M'. */
function ping(addr: string, n: number): string {
  return spawnSync('python3', [path.join(root, 'test', 'support', 'kping.py'), addr, String(n)], { encoding: 'utf8', timeout: 120_000 })
    .stdout;
}

t.test(
  'a Solo5-ABI net guest in a namespace that outlives it: stop + rm and rm -f leave it working for the next container',
  { skip: skip ?? needRoot('ip', 'tc', 'python3') ?? false },
  async (t) => {
    const seed = Math.floor(Math.random() * 1e6);
    t.comment(`seed ${seed}`);
    const ns = makeNamespace(t, seed);
    const image = `localhost/solo5-oci-net-${seed}`;
    const ctx = tmpBase(t);
    buildNetip(ctx, 'solo5');
    fs.writeFileSync(path.join(ctx, 'Containerfile'), 'FROM scratch\nCOPY netip-solo5.spt /\nCMD ["/netip-solo5.spt"]\n');
    t.equal(podman(['build', '-q', '-t', image, ctx]).status, 0, 'podman build');
    t.teardown(() => void podman(['rmi', '-f', image]));
    const clean = (what: string) => {
      t.notMatch(sh(`ip -n ${ns.name} link show`).stdout, /snoci/, `${what}: no tap left`);
      t.notMatch(sh(`tc -n ${ns.name} qdisc show dev eth0`).stdout, /ingress/, `${what}: no redirect left on eth0`);
    };
    for (const how of ['stop + rm', 'rm -f']) {
      const r = podman(['run', '-d', `--runtime=${ociFront}`, ...LIMITS, `--network=ns:/run/netns/${ns.name}`, image]);
      t.equal(r.status, 0, `run -d (${r.stderr.trim()})`);
      const id = r.stdout.trim();
      await logsShow(id, `ip ${ns.addr}`);
      t.match(ping(ns.addr, 1), /sent=1 received=1/, `${how}: the guest answers at the namespace's address`);
      if (how === 'stop + rm') {
        t.equal(podman(['stop', '-t', '2', id]).status, 0, 'podman stop');
        t.equal(podman(['rm', id]).status, 0, 'podman rm');
      } else t.equal(podman(['rm', '-f', id]).status, 0, 'podman rm -f');
      clean(how);
    }
  },
);
