// oci-hooks.test.ts: OCI hooks around a unikernel's life (order, stdin, arg0, env, timeout, failures), and runc's refusal words.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { TRANSITIONS, checkTransition, type Status, type Transition } from '../lib/oci/state';
import { app, exists } from './support/paths';
import { create, makeBundle, oci, processesWith, tmpBase } from './support/oci';

const hello = app('hello');
const sleep = app('sleep');
const skip = (!exists(hello) || !exists(sleep)) && 'guest/build/hello.spt and sleep.spt are not built';

/** A node script that appends what it was given (phase, arg0, env, stdin) to LOG as one JSON line. */
const RECORDER = `const fs = require('fs');
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  fs.appendFileSync(process.argv[2], JSON.stringify({ phase: process.argv[3], arg0: process.argv0, env: process.env, state: JSON.parse(input) }) + '\\n');
  if (process.argv[4] === 'fail') { process.stderr.write('hook says no\\n'); process.exit(3); }
});
`;

interface Seen {
  phase: string;
  arg0: string;
  env: Record<string, string>;
  state: { id: string; status: string; pid: number };
}

function hookSet(script: string, log: string, fail: string[] = []) {
  const one = (phase: string) => [
    { path: process.execPath, args: [`hook-${phase}`, script, log, phase, ...(fail.includes(phase) ? ['fail'] : [])], env: ['SN_HOOK=1'] },
  ];
  const phases = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];
  return Object.fromEntries(phases.map((p) => [p, one(p)]));
}

t.test('every phase, in order, with the state on stdin, its own arg0 and env; a failing poststop only warns', { skip }, async (t) => {
  const base = tmpBase(t);
  const stateRoot = path.join(base, 'state');
  const script = path.join(base, 'rec.js');
  fs.writeFileSync(script, RECORDER);
  const log = path.join(base, 'hooks.log');
  const b = makeBundle(base, sleep, ['600000'], { hooks: hookSet(script, log, ['poststop']) });
  const c = await create(stateRoot, b.dir, 'hk');
  t.equal(c.status, 0, `create (${c.stderr.trim()})`);
  t.equal(oci(stateRoot, ['start', 'hk'], true).status, 0, 'start (the front door leaves hooks to the CLI)');
  await c.waitFor('READY');
  const runtimeLog = path.join(base, 'runtime.log');
  const del = oci(stateRoot, ['--log', runtimeLog, '--log-format', 'json', 'delete', '--force', 'hk'], true);
  await c.console;
  t.equal(del.status, 0, 'delete succeeds although poststop failed');
  t.match(del.stderr, /warning: error running poststop hook #0: .*exit status 3: hook says no/);
  const last = JSON.parse(fs.readFileSync(runtimeLog, 'utf8').trim().split('\n').pop() ?? '{}') as { level: string; msg: string };
  t.equal(last.level, 'warning', 'a warning in --log');
  t.notOk(fs.existsSync(path.join(stateRoot, 'hk')), 'the state directory is gone');
  const seen = fs
    .readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Seen);
  t.same(
    seen.map((s) => s.phase),
    ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    'spec order',
  );
  t.same(
    seen.map((s) => s.arg0),
    seen.map((s) => `hook-${s.phase}`),
    'args[0] is arg0',
  );
  // tap's process-info loader (NODE_OPTIONS) adds its own variables to every child; nothing else may come through.
  const own = Object.fromEntries(Object.entries(seen[0].env).filter(([k]) => !k.startsWith('_TAPJS') && k !== 'NODE_OPTIONS'));
  t.same(own, { SN_HOOK: '1' }, 'exactly its own env');
  t.same(
    seen.map((s) => s.state.status),
    ['creating', 'creating', 'creating', 'created', 'running', 'stopped'],
    'status in the state',
  );
  t.ok(seen[0].state.pid > 0 && seen.every((s) => s.state.id === 'hk'), 'the state names the container and its pid');
});

t.test('a failing or hanging create hook fails create and leaves nothing', { skip }, async (t) => {
  const base = tmpBase(t);
  const stateRoot = path.join(base, 'state');
  const script = path.join(base, 'rec.js');
  fs.writeFileSync(script, RECORDER);
  const log = path.join(base, 'hooks.log');
  const failing = makeBundle(base, hello, [], { hooks: { createRuntime: hookSet(script, log, ['createRuntime']).createRuntime } });
  const f = await create(stateRoot, failing.dir, 'bad');
  t.equal(f.status, 1, 'create fails');
  t.match(f.stderr, /^solo5-oci: error running createRuntime hook #0: .*: exit status 3: hook says no\n$/);
  const hang = { path: process.execPath, args: ['node', '-e', 'setInterval(() => {}, 1000)'], timeout: 1 };
  const hanging = makeBundle(base, hello, [], { hooks: { prestart: [hang] } });
  const h = await create(stateRoot, hanging.dir, 'hang');
  t.equal(h.status, 1, 'create fails');
  t.match(h.stderr, /error running prestart hook #0: .*: timed out after 1s/);
  await Promise.all([f.console, h.console]);
  t.same(fs.readdirSync(stateRoot), [], 'no state directory');
  t.same(processesWith(stateRoot), [], 'no guest left waiting');
  const unknown = makeBundle(base, hello, [], { hooks: { prestop: [hang] } });
  t.match((await create(stateRoot, unknown.dir, 'u')).stderr, /hooks\.prestop: not a hook phase this runtime knows/);
  const relative = makeBundle(base, hello, [], { hooks: { prestart: [{ path: 'node' }] } });
  t.match((await create(stateRoot, relative.dir, 'r')).stderr, /hooks\.prestart\[0\]\.path: a hook path must be absolute/);
});

t.test("start, kill and delete in each status: runc's words, from one table", (t) => {
  const expect: [Status, Transition, string | undefined][] = [
    ['created', 'start', undefined],
    ['running', 'start', 'cannot start an already running container'],
    ['stopped', 'start', 'cannot start a container that has stopped'],
    ['stopped', 'kill', 'container not running'],
    ['stopped', 'kill --all', undefined],
    ['running', 'kill', undefined],
    ['running', 'delete', 'cannot delete a running container: stop it first, or use delete --force'],
    ['running', 'delete --force', undefined],
    ['stopped', 'delete', undefined],
    ['created', 'delete', undefined],
  ];
  for (const [s, tr, msg] of expect) {
    t.equal(TRANSITIONS[s][tr], msg, `${s} + ${tr}`);
    if (msg === undefined) t.doesNotThrow(() => checkTransition('x', s, tr));
    else t.throws(() => checkTransition('x', s, tr), { message: `container x: ${msg}` });
  }
  t.end();
});
