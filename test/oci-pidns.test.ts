// oci-pidns.test.ts: the container's processes in the pid namespace config.json asks for, with a /proc that shows only them.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { create, makeBlockBundle, makeBundle, needRoot, oci, tmpBase } from './support/oci';
import { app, exists } from './support/paths';
import { isGone, startTime, waitGone } from './support/proc';

const sleep = app('sleep');
const blk = app('blk');
const statePid = (r: string, id: string) => (JSON.parse(oci(r, ['state', id]).stdout) as { pid: number }).pid;
const pidNs = (pid: number | 'self') => fs.readlinkSync(`/proc/${pid}/ns/pid`);

/** What `podman top` sees: the /proc mounted in the process's mount namespace, pid -> command line. */
function procInside(pid: number): Map<number, string> {
  const procDir = `/proc/${pid}/root/proc`;
  const out = new Map<number, string>();
  for (const d of fs.readdirSync(procDir).filter((n) => /^[0-9]+$/.test(n))) {
    try {
      out.set(Number(d), fs.readFileSync(`${procDir}/${d}/cmdline`, 'utf8').split('\0').join(' ').trim());
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Host pids of the live processes in pid namespace `ns` (an ended one's parent may be slow to reap it). */
function inNamespace(ns: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((n) => /^[0-9]+$/.test(n))
    .filter((n) => {
      try {
        return (
          fs.readlinkSync(`/proc/${n}/ns/pid`) === ns && startTime(Number(n)) !== undefined && !isGone(Number(n), startTime(Number(n))!)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

const skip = needRoot('unshare', 'nsenter') ?? (!exists(sleep) ? 'guest/build/sleep.spt is not built' : undefined);

t.test(
  'monitorless: the guest and solo5-oci-init alone in a new pid namespace, with their own /proc',
  { skip: skip ?? false },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const b = makeBundle(base, sleep, ['600000']);
    const c = await create(stateRoot, b.dir, 'pidns');
    t.equal(c.status, 0, `create succeeds (${c.stderr.trim()})`);
    const pid = statePid(stateRoot, 'pidns');
    const ns = pidNs(pid);
    t.not(ns, pidNs('self'), "the container's pid namespace is not the runtime's");
    const inside = procInside(pid);
    t.same([...inside.keys()].sort(), [1, 2], `its /proc lists two processes (${JSON.stringify([...inside])})`);
    t.match(inside.get(1), /\/solo5-oci-init$/, 'pid 1 is solo5-oci-init');
    t.equal(inside.get(2), 'solo5-guest', 'pid 2 is the helper, the container process');
    t.notOk([...inside.keys()].includes(process.pid), "the test runner's pid is not there");
    const members = inNamespace(ns);
    t.equal(members.length, 2, 'seen from the host, the namespace holds those two');
    const init = members.find((p) => p !== pid)!;
    t.match(fs.readFileSync(`/proc/${init}/status`, 'utf8'), /\nUid:\t65534\t65534\t65534/, 'solo5-oci-init runs as nobody');
    const initStart = startTime(init)!;

    t.equal(oci(stateRoot, ['start', 'pidns']).status, 0, 'start');
    await c.waitFor('READY');
    t.same(JSON.parse(oci(stateRoot, ['ps', '--format', 'json', 'pidns']).stdout), [pid], 'ps names the guest by its host pid');
    // SIGTERM reaches the guest: it is not its namespace's pid 1, which ignores signals it has no handler for.
    t.equal(oci(stateRoot, ['kill', 'pidns', 'TERM']).status, 0, 'kill TERM');
    await c.console;
    t.equal((JSON.parse(oci(stateRoot, ['state', 'pidns']).stdout) as { status: string }).status, 'stopped', 'the guest ended by SIGTERM');
    t.ok(await waitGone(init, initStart), 'solo5-oci-init ends with the guest');
    t.equal(oci(stateRoot, ['delete', 'pidns']).status, 0, 'delete');
  },
);

t.test(
  'with a monitor: the monitor is pid 1 of the namespace, and its /proc shows it alone until start',
  { skip: skip ?? (!exists(blk) && 'guest/build/blk.spt is not built') },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const b = makeBlockBundle(base, blk);
    const c = await create(stateRoot, b.dir, 'mon');
    t.equal(c.status, 0, `create succeeds (${c.stderr.trim()})`);
    const pid = statePid(stateRoot, 'mon');
    t.not(pidNs(pid), pidNs('self'), "the monitor's pid namespace is not the runtime's");
    const inside = procInside(pid);
    t.same([...inside.keys()], [1], 'its /proc lists one process');
    t.match(inside.get(1), /monitor-main/, 'the monitor, as pid 1');
    t.equal(oci(stateRoot, ['start', 'mon']).status, 0, 'start');
    t.match(await c.console, /SUCCESS/, 'the guest ran in the namespace and used its block device');
    t.equal(oci(stateRoot, ['delete', 'mon']).status, 0, 'delete');
  },
);

t.test('a pid namespace with a path is joined (a pod sharing its sandbox pid namespace)', { skip: skip ?? false }, async (t) => {
  const base = tmpBase(t);
  const stateRoot = path.join(base, 'state');
  // The "sandbox": a sleep that is pid 1 of a namespace of its own.
  const sandbox = spawn('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', 'sh', '-c', 'echo up; exec sleep 600'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    sandbox.kill('SIGKILL');
    sandbox.stdout.destroy();
  });
  await new Promise((resolve) => sandbox.stdout.once('data', resolve));
  const pause = Number(fs.readFileSync(`/proc/${sandbox.pid}/task/${sandbox.pid}/children`, 'utf8').trim());
  t.not(pidNs(pause), pidNs('self'), 'the sandbox has a pid namespace of its own');
  const sandboxNs = `/proc/${pause}/ns/pid`;
  const b = makeBundle(base, sleep, ['600000'], { linux: { namespaces: [{ type: 'pid', path: sandboxNs }, { type: 'mount' }] } });
  const c = await create(stateRoot, b.dir, 'joined');
  t.equal(c.status, 0, `create succeeds (${c.stderr.trim()})`);
  const pid = statePid(stateRoot, 'joined');
  t.equal(pidNs(pid), pidNs(pause), "the container is in the sandbox's pid namespace");
  const inside = [...procInside(pid).values()];
  t.equal(inside.length, 3, `its /proc lists the sandbox's process, solo5-oci-init and the helper (${JSON.stringify(inside)})`);
  t.ok(inside.includes('sleep 600'), "the sandbox's process is among them");
  const init = inNamespace(pidNs(pause)).find((p) => p !== pause && p !== pid)!;
  const initStart = startTime(init)!;
  t.equal(oci(stateRoot, ['delete', '--force', 'joined']).status, 0, 'delete --force');
  t.equal(await c.console, '', 'the guest never ran');
  t.ok(await waitGone(init, initStart), 'solo5-oci-init ends with the guest');
  t.same(inNamespace(pidNs(pause)), [pause], "the sandbox's namespace holds its own process alone again");
});

t.test(
  "without a pid namespace the container stays in the runtime's; bad namespaces are refused in one line",
  { skip: skip ?? false },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const host = makeBundle(base, sleep, ['600000'], { linux: { namespaces: [] } });
    const c = await create(stateRoot, host.dir, 'host');
    t.equal(c.status, 0, `create succeeds (${c.stderr.trim()})`);
    t.equal(pidNs(statePid(stateRoot, 'host')), pidNs('self'), "the container shares the runtime's pid namespace");
    t.equal(oci(stateRoot, ['delete', '--force', 'host']).status, 0, 'delete --force');
    const refusals: [string, object, RegExp][] = [
      [
        'a pid namespace path that does not exist',
        { namespaces: [{ type: 'pid', path: '/proc/0/ns/pid' }] },
        /^solo5-oci: linux\.namespaces: the pid namespace \/proc\/0\/ns\/pid does not exist \(was its pod sandbox removed\?\)\n$/,
      ],
      [
        'a pid namespace path that is not one',
        { namespaces: [{ type: 'pid', path: '/proc/self/ns/net' }] },
        /^solo5-oci: linux\.namespaces: pid namespace: \/proc\/self\/ns\/net: setns failed: EINVAL\n$/,
      ],
      [
        'a mount namespace to join',
        { namespaces: [{ type: 'pid' }, { type: 'mount', path: '/proc/1/ns/mnt' }] },
        /^solo5-oci: linux\.namespaces: joining a mount namespace \(a path\) is not supported; the container gets its own\n$/,
      ],
    ];
    for (const [what, linux, re] of refusals) {
      const b = makeBundle(base, sleep, ['1'], { linux });
      const r = oci(stateRoot, ['create', '--bundle', b.dir, 'bad']);
      t.equal(r.status, 1, `${what}: refused`);
      t.match(r.stderr, re, `${what}: one line (${r.stderr.trim()})`);
    }
    t.same(fs.readdirSync(stateRoot), [], 'nothing is left');
  },
);
