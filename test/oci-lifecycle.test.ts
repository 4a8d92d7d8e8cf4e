// oci-lifecycle.test.ts: solo5-oci's create/start/state/kill/delete on hand-written bundles, and its refusals.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { app, exists } from './support/paths';
import { create, makeBlockBundle, makeBundle, oci, ociFront, ociInProcess as inProcess, processesWith, tmpBase } from './support/oci';

const sleep = app('sleep');
const hello = app('hello');
const state = (r: string, id: string) => JSON.parse(oci(r, ['state', id]).stdout) as { status: string; pid: number };

const procState = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.charAt(stat.lastIndexOf(')') + 2);
};
const gone = (pid: number) => !fs.existsSync(`/proc/${pid}/stat`) || /[ZX]/.test(procState(pid));

t.test(
  'monitorless (a ring guest without devices): create, start, state, kill, delete; nothing is left behind',
  { skip: !exists(sleep) && 'guest/build/sleep.spt is not built' },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const b = makeBundle(base, sleep, ['600000']);
    const pidFile = path.join(base, 'pid');
    const c = await create(stateRoot, b.dir, 'life', ['--pid-file', pidFile]);
    t.equal(c.status, 0, `create succeeds (${c.stderr.trim()})`);
    t.equal(fs.statSync(stateRoot).mode & 0o777, 0o700, 'the state root is 0700');
    t.equal(fs.statSync(path.join(stateRoot, 'life')).mode & 0o777, 0o700, 'the container directory is 0700');
    const gate = fs.statSync(path.join(stateRoot, 'life', 'gate'));
    t.ok(gate.isFIFO(), 'the start gate is a FIFO');
    t.equal(gate.mode & 0o777, 0o600, 'the start gate is 0600');
    t.notOk(fs.existsSync(path.join(stateRoot, 'life', 'start.sock')), 'no monitor socket');
    const created = state(stateRoot, 'life');
    t.equal(created.status, 'created');
    t.equal(Number(fs.readFileSync(pidFile, 'utf8')), created.pid, 'the pid file names the container process');
    t.equal(fs.readFileSync(`/proc/${created.pid}/cmdline`, 'utf8'), 'solo5-guest\0', 'the container process is the helper itself');
    t.equal(procState(created.pid), 'S', 'it waits at the gate');
    if (process.getuid?.() === 0)
      t.match(fs.readFileSync(`/proc/${created.pid}/status`, 'utf8'), /\nUid:\t65534\t65534\t65534/, 'as root it dropped to nobody first');
    t.equal(oci(stateRoot, ['create', '--bundle', b.dir, 'life']).status, 1, 'a second create with the same id fails');

    t.equal(oci(stateRoot, ['start', 'life']).status, 0, 'start succeeds');
    await c.waitFor('READY');
    t.equal(state(stateRoot, 'life').status, 'running');
    const ps = JSON.parse(oci(stateRoot, ['ps', '--format', 'json', 'life']).stdout) as number[];
    t.same(ps, [created.pid], 'ps lists the guest, which is the container process');
    const again = oci(stateRoot, ['start', 'life']);
    t.equal(again.status, 1, 'start twice fails');
    t.match(again.stderr, /^solo5-oci: container life: cannot start an already running container\n$/);
    const del = oci(stateRoot, ['delete', 'life']);
    t.equal(del.status, 1, 'delete of a running container without --force fails');
    t.match(del.stderr, /^solo5-oci: container life: cannot delete a running container: stop it first, or use delete --force\n$/);
    t.match(oci(stateRoot, ['list', '--format', 'json']).stdout, /"id":"life","status":"running"/);

    t.equal(oci(stateRoot, ['kill', 'life', 'TERM']).status, 0, 'kill succeeds');
    await c.console;
    t.equal(state(stateRoot, 'life').status, 'stopped', 'stopped once the guest has ended');
    const late = oci(stateRoot, ['kill', 'life', '15']);
    t.equal(late.status, 1, 'kill of a stopped container fails');
    t.match(late.stderr, /container not running/, "in runc's words, which containerd takes as 'already finished'");
    t.equal(oci(stateRoot, ['kill', '--all', 'life', 'KILL']).status, 0, 'kill --all of a stopped container succeeds, as runc 1.1');
    t.equal(oci(stateRoot, ['delete', 'life']).status, 0, 'delete succeeds');
    t.notOk(fs.existsSync(path.join(stateRoot, 'life')), 'the state directory is gone');
    t.ok(gone(created.pid), `process ${created.pid} is gone`);
    t.same(processesWith(stateRoot), [], 'no process mentions the state root');
    t.equal(oci(stateRoot, ['state', 'life']).status, 1, 'state of a deleted container fails');
  },
);

t.test(
  'a ring guest with a block device keeps the monitor, and its status passes through',
  { skip: !exists(app('blk')) && 'guest/build/blk.spt is not built' },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const b = makeBlockBundle(base, app('blk'));
    const c = await create(stateRoot, b.dir, 'mon');
    t.equal(c.status, 0, `create succeeds (${c.stderr.trim()})`);
    t.ok(fs.existsSync(path.join(stateRoot, 'mon', 'start.sock')), 'the monitor listens for start');
    t.notOk(fs.existsSync(path.join(stateRoot, 'mon', 'gate')), 'no start gate');
    const created = state(stateRoot, 'mon');
    t.equal(created.status, 'created');
    t.match(fs.readFileSync(`/proc/${created.pid}/cmdline`, 'utf8'), /monitor-main/, 'the container process is the monitor');
    t.equal(oci(stateRoot, ['start', 'mon']).status, 0, 'start succeeds');
    t.match(await c.console, /SUCCESS/, 'the guest used its block device');
    t.equal(state(stateRoot, 'mon').status, 'stopped');
    t.equal(oci(stateRoot, ['delete', 'mon']).status, 0);
    const r = oci(stateRoot, ['run', '--bundle', b.dir, 'mon-run']);
    t.equal(r.status, 0, `run returns the guest status (${r.stderr.trim()})`);
    t.same(fs.readdirSync(stateRoot), [], 'nothing is left');
  },
);

t.test(
  'monitorless: kill and delete while created; start after the end is refused',
  { skip: !exists(sleep) && 'sleep.spt is not built' },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const b = makeBundle(base, sleep, ['600000']);
    const k = await create(stateRoot, b.dir, 'k');
    t.equal(k.status, 0);
    t.equal(oci(stateRoot, ['kill', 'k', 'KILL']).status, 0, 'kill of a created container');
    t.equal(await k.console, '', 'the guest never ran');
    t.equal(state(stateRoot, 'k').status, 'stopped');
    const late = oci(stateRoot, ['start', 'k']);
    t.equal(late.status, 1, 'start of a stopped container fails');
    t.match(late.stderr, /^solo5-oci: container k: cannot start a container that has stopped\n$/);
    t.equal(oci(stateRoot, ['delete', 'k']).status, 0);
    t.same(fs.readdirSync(stateRoot), []);
  },
);

t.test(
  'the exit status of the unikernel is the container process status (run)',
  { skip: !exists(hello) && 'hello.spt is not built' },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const exitcode = app('exitcode');
    const b = makeBundle(base, exitcode, ['7']);
    const r = oci(stateRoot, ['run', '--bundle', b.dir, 'rc']);
    t.equal(r.status, 7, 'run returns the guest status');
    t.match(r.stdout, /exiting with 7/);
    t.same(fs.readdirSync(stateRoot), [], 'run removed its state');
    const sys = oci(stateRoot, ['run', '--bundle', makeBundle(base, app('seccomp'), []).dir, 'sys']);
    t.equal(sys.status, 159, 'a guest killed by SIGSYS: 128 + 31, as upstream');
    t.match(sys.stderr, /^solo5-oci: guest killed by SIGSYS/);
    const solo5 = app('solo5/exitcode');
    if (exists(solo5)) {
      const s5 = oci(stateRoot, ['run', '--bundle', makeBundle(base, solo5, ['9']).dir, 'solo5']);
      t.equal(s5.status, 9, `a Solo5-ABI guest, monitorless too (${s5.stderr.trim()})`);
    }
  },
);

t.test(
  'delete --force kills a created container; delete of a created one needs no force',
  { skip: !exists(sleep) && 'sleep.spt is not built' },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const b = makeBundle(base, sleep, ['600000']);
    const c = await create(stateRoot, b.dir, 'held');
    t.equal(c.status, 0);
    const pid = state(stateRoot, 'held').pid;
    t.equal(oci(stateRoot, ['delete', 'held']).status, 0, 'a created container is deleted');
    await c.console;
    t.ok(gone(pid), 'its process is gone');
    t.same(fs.readdirSync(stateRoot), []);
    t.same(processesWith(stateRoot), []);
    t.equal(oci(stateRoot, ['delete', '--force', 'held']).status, 0, 'delete --force of a missing container is not an error');
  },
);

t.test(
  'the front door (addon/oci) starts, kills and deletes a monitorless container, and leaves the rest to the CLI',
  { skip: (!exists(sleep) || !exists(ociFront)) && 'sleep.spt or addon/oci/build/solo5-oci is not built' },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const c = await create(stateRoot, makeBundle(base, sleep, ['600000']).dir, 'fd');
    t.equal(c.status, 0);
    t.equal(oci(stateRoot, ['--debug', 'start', 'fd'], true).status, 0, 'start');
    await c.waitFor('READY');
    t.equal(state(stateRoot, 'fd').status, 'running');
    const again = oci(stateRoot, ['start', 'fd'], true);
    t.equal(again.status, 1, 'start twice fails');
    t.match(again.stderr, /^solo5-oci: container fd: cannot start an already running container\n$/, "in the CLI's words");
    t.equal(oci(stateRoot, ['delete', 'fd'], true).status, 1, 'delete of a running container without --force fails');
    t.equal(oci(stateRoot, ['kill', 'fd', 'SIGKILL'], true).status, 0, 'kill of the running guest');
    await c.console;
    t.equal(oci(stateRoot, ['kill', '--all', 'fd', '9'], true).status, 0, 'kill --all of the stopped one succeeds, as runc 1.1');
    t.match(oci(stateRoot, ['kill', 'fd', 'TERM'], true).stderr, /container not running/, 'kill of the stopped one: the CLI words it');
    t.equal(oci(stateRoot, [`--root=${stateRoot}`, 'delete', '--force', 'fd'], true).status, 0, 'delete of the stopped container');
    t.same(fs.readdirSync(stateRoot), [], 'its directory is gone');
    const missing = oci(stateRoot, ['start', 'fd'], true);
    t.match(missing.stderr, /^solo5-oci: container fd does not exist\n$/, 'a missing container: the CLI says so');
    t.match(oci(stateRoot, ['--version'], true).stdout, /^solo5-oci version /, 'any other command goes to the CLI');
  },
);

const refusals: { name: string; config?: Record<string, unknown>; raw?: string; re: RegExp }[] = [
  { name: 'config.json that is not JSON', raw: '{"ociVersion":', re: /config\.json: not JSON/ },
  // No process.args[0] (missing, or not a list) is not a unikernel: such a container is runc's
  // (test/oci-delegate.test.ts), and an in-process create would exec runc in place of the test.
  {
    name: 'an annotation that is not a string',
    config: { annotations: { 'org.solo5-node.mem': 8 } },
    re: /config\.json: annotations\.org\.solo5-node\.mem: expected a string/,
  },
  {
    name: 'a mount without a destination',
    config: { mounts: [{ type: 'tmpfs' }] },
    re: /config\.json: mounts\[0\]\.destination: is required/,
  },
  {
    name: 'a memory limit that is not a number',
    config: { linux: { resources: { memory: { limit: '8m' } } } },
    re: /config\.json: linux\.resources\.memory\.limit: expected an integer/,
  },
  {
    name: 'a terminal without a console socket',
    config: { process: { args: ['/hello.spt'], terminal: true } },
    re: /process\.terminal: a terminal needs --console-socket/,
  },
  {
    name: 'a network namespace that is gone (its pod sandbox removed)',
    config: { linux: { namespaces: [{ type: 'network', path: '/run/netns/sn-oci-no-such-sandbox' }] } },
    re: /linux\.namespaces: the network namespace \/run\/netns\/sn-oci-no-such-sandbox does not exist/,
  },
  {
    name: 'a user namespace',
    config: { linux: { namespaces: [{ type: 'user' }] } },
    re: /linux\.namespaces: a user namespace cannot be entered/,
  },
  {
    name: 'an nfs mount',
    config: { mounts: [{ destination: '/data', type: 'nfs', source: 'srv:/x' }] },
    re: /mounts\[0\]\.type: 'nfs' at \/data is not supported/,
  },
  {
    name: 'a volume',
    config: { mounts: [{ destination: '/data', type: 'bind', source: '/tmp' }] },
    re: /mounts\[0\]: a bind mount at \/data has nowhere to go/,
  },
  // A command that is no Solo5 ELF (missing, outside the image, a script) is runc's: oci-delegate.test.ts.
  {
    name: 'an unknown hook phase',
    config: { hooks: { prestop: [{ path: '/bin/true' }] } },
    re: /hooks\.prestop: not a hook phase this runtime knows/,
  },
  {
    name: 'the unikernel path of urunc leaving the image',
    config: { annotations: { 'com.urunc.unikernel.binary': '/../../../../etc/passwd' } },
    re: /leads outside the image|does not exist/,
  },
  {
    name: 'a qemu unikernel',
    config: { annotations: { 'com.urunc.unikernel.hypervisor': 'qemu' } },
    re: /com\.urunc\.unikernel\.hypervisor: 'qemu' is not supported/,
  },
  {
    name: 'too little memory',
    config: { linux: { resources: { memory: { limit: 1048576 } } } },
    re: /linux\.resources\.memory\.limit: 1048576 bytes is below/,
  },
];

t.test('commands and signals named like Object.prototype properties are unknown, like any other name', async (t) => {
  const stateRoot = path.join(tmpBase(t), 'state');
  for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
    const c = await inProcess(['--root', stateRoot, name, '--force', 'x']);
    t.same([c.status, c.stderr], [1, `solo5-oci: unknown command '${name}' (see --help)\n`], `command ${name}`);
    const k = await inProcess(['--root', stateRoot, 'kill', 'x', name]);
    t.same([k.status, k.stderr], [1, `solo5-oci: signal ${name}: no such signal\n`], `signal ${name}`);
  }
});

t.test('bad bundles: one line on stderr, exit 1, nothing left behind', { skip: !exists(hello) && 'hello.spt is not built' }, async (t) => {
  const base = tmpBase(t);
  const stateRoot = path.join(base, 'state');
  const missing = await inProcess(['--root', stateRoot, 'create', '--bundle', path.join(base, 'nope'), 'm']);
  t.equal(missing.status, 1, 'a missing bundle fails');
  t.match(missing.stderr, /^solo5-oci: bundle .*nope: no such directory\n$/);
  for (const r of refusals) {
    const b = makeBundle(base, hello, [], r.config ?? {});
    if (r.raw !== undefined) fs.writeFileSync(path.join(b.dir, 'config.json'), r.raw);
    if (r.name === 'a non-unikernel') fs.copyFileSync(path.join(b.dir, 'config.json'), path.join(b.rootfs, 'config.json'));
    const res = await inProcess(['--root', stateRoot, 'create', '--bundle', b.dir, 'bad']);
    t.equal(res.status, 1, `${r.name}: exit 1`);
    t.equal(res.stderr.split('\n').length, 2, `${r.name}: one line (${res.stderr.trim()})`);
    t.match(res.stderr, r.re, r.name);
  }
  t.same(fs.readdirSync(stateRoot), [], 'no state directory is left');
  const log = path.join(base, 'log.json');
  await inProcess(['--root', stateRoot, '--log', log, '--log-format', 'json', 'start', 'ghost']);
  t.match(
    JSON.parse(fs.readFileSync(log, 'utf8').trim()) as object,
    { level: 'error', msg: 'container ghost does not exist' },
    '--log gets a JSON line',
  );
  t.match((await inProcess(['--root', stateRoot, 'create', 'a/b'])).stderr, /container ID 'a\/b': use letters, digits/);
  t.match((await inProcess(['--root', stateRoot, 'frobnicate'])).stderr, /unknown command 'frobnicate'/);
  t.match((await inProcess(['--root', stateRoot, 'kill', 'x', 'SIGNOPE'])).stderr, /signal SIGNOPE: no such signal/);
  t.match((await inProcess(['--root', stateRoot, '--version'])).stdout, /^solo5-oci version .*\nspec: 1\.0\.2\n$/);
  t.match(JSON.parse((await inProcess(['--root', stateRoot, 'features'])).stdout) as object, {
    ociVersionMax: '1.0.2',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
  });
});
