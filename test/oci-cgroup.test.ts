// oci-cgroup.test.ts: linux.cgroupsPath: parsed for both managers; the container's process in it with its limits; gone after delete.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { cgroupFor, parseCgroupsPath } from '../lib/oci/cgroup';
import { app, exists } from './support/paths';
import { create, makeBundle, needRoot, oci, tmpBase } from './support/oci';

t.test('cgroupsPath: a path, or systemd slice:prefix:name', (t) => {
  t.equal(parseCgroupsPath('/libpod_parent/libpod-abc', false), '/libpod_parent/libpod-abc');
  t.equal(parseCgroupsPath('default/c1', false), '/default/c1', 'relative: under the root');
  t.equal(parseCgroupsPath('machine.slice:libpod:abc', true), '/machine.slice/libpod-abc.scope');
  t.equal(
    parseCgroupsPath('kubepods-besteffort-podX.slice:cri-containerd:abc', false),
    '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podX.slice/cri-containerd-abc.scope',
    'nested slices, as systemd names them',
  );
  t.equal(parseCgroupsPath(':cri:abc', true), '/system.slice/cri-abc.scope', 'no slice: system.slice');
  t.throws(() => parseCgroupsPath('/a/b', true), { message: /the systemd form is slice:prefix:name/ });
  t.throws(() => parseCgroupsPath('a.slice:p:../x', true), { message: /letters, digits/ });
  t.equal(parseCgroupsPath('/a/../../b', false), '/b', 'normalised inside the root');
  t.end();
});

/** rmdir, quietly: the test's parent cgroup, left empty once its child is gone. */
function rmdirQuiet(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Gone already, or still busy: nothing more a teardown can do.
  }
}

/** The cgroup directories of `pid`, one per hierarchy, from /proc/PID/cgroup. */
function cgroupsOf(pid: number): string[] {
  return fs
    .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(':').slice(2).join(':'));
}

const skip = needRoot() ?? (!fs.existsSync('/sys/fs/cgroup') && 'no /sys/fs/cgroup');

t.test('apply: the process and its limits in every hierarchy; destroy kills and removes', { skip: skip ?? false }, async (t) => {
  const seed = Math.floor(Math.random() * 1e9);
  t.comment(`seed ${seed}`);
  const cg = cgroupFor(`/sn-oci-test-${seed}/c`, false);
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.teardown(() => {
    child.kill('SIGKILL');
    cg.destroy();
    for (const d of cg.dirs) rmdirQuiet(path.dirname(d));
  });
  cg.apply(child.pid!, { memory: 64 << 20, cpuQuota: 50000, cpuPeriod: 100000 });
  t.ok(cg.dirs.length > 0, `hierarchies: ${cg.dirs.join(' ')}`);
  t.ok(
    cgroupsOf(child.pid!).some((p) => p === `/sn-oci-test-${seed}/c`),
    'the process is in the cgroup',
  );
  for (const d of cg.dirs) {
    t.match(fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8'), new RegExp(`^${child.pid}$`, 'm'), `${d}: cgroup.procs`);
    if (fs.existsSync(path.join(d, 'memory.limit_in_bytes')))
      t.equal(fs.readFileSync(path.join(d, 'memory.limit_in_bytes'), 'utf8').trim(), `${64 << 20}`, 'v1 memory limit');
    if (fs.existsSync(path.join(d, 'memory.max')))
      t.equal(fs.readFileSync(path.join(d, 'memory.max'), 'utf8').trim(), `${64 << 20}`, 'v2 memory limit');
    if (fs.existsSync(path.join(d, 'cpu.cfs_quota_us')))
      t.equal(fs.readFileSync(path.join(d, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000', 'v1 --cpus=0.5');
    if (fs.existsSync(path.join(d, 'cpu.max')))
      t.equal(fs.readFileSync(path.join(d, 'cpu.max'), 'utf8').trim(), '50000 100000', 'v2 --cpus=0.5');
  }
  cg.destroy();
  await exited;
  t.same(
    cg.dirs.filter((d) => fs.existsSync(d)),
    [],
    'every directory is gone',
  );
});

const hello = app('hello');

t.test(
  'create puts the guest in linux.cgroupsPath; delete (the front door) removes it',
  { skip: skip ?? (!exists(hello) && 'hello.spt is not built') },
  async (t) => {
    const seed = Math.floor(Math.random() * 1e9);
    t.comment(`seed ${seed}`);
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const want = `/sn-oci-test-${seed}/ctr`;
    const b = makeBundle(base, hello, [], {
      linux: {
        namespaces: [{ type: 'pid' }],
        cgroupsPath: want,
        resources: { memory: { limit: 32 << 20 }, cpu: { quota: 20000, period: 100000 } },
      },
    });
    const dirs = fs
      .readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .filter((l) => / cgroup2? /.test(l))
      .map((l) => l.split(' ')[1]);
    t.teardown(() => {
      oci(stateRoot, ['delete', '--force', 'cg']);
      for (const d of dirs) rmdirQuiet(path.join(d, `sn-oci-test-${seed}`));
    });
    const c = await create(stateRoot, b.dir, 'cg');
    t.equal(c.status, 0, `create (${c.stderr.trim()})`);
    const pid = (JSON.parse(oci(stateRoot, ['state', 'cg']).stdout) as { pid: number }).pid;
    t.ok(cgroupsOf(pid).includes(want), `the guest's process is in ${want}`);
    t.equal(oci(stateRoot, ['start', 'cg'], true).status, 0, 'start');
    await c.console;
    t.equal(oci(stateRoot, ['delete', 'cg'], true).status, 0, 'delete');
    t.same(
      dirs.map((d) => path.join(d, want)).filter((d) => fs.existsSync(d)),
      [],
      'its cgroup is gone in every hierarchy',
    );
  },
);
