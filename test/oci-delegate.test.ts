// oci-delegate.test.ts: which containers are unikernels, and runc running the others with the caller's argv but for --root.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { classify, classifyBundle, runcArgv, runcRoot, KIND_ANNOTATION } from '../lib/oci/delegate';
import { app, exists } from './support/paths';
import { ociCli, ociFront, tmpBase } from './support/oci';
import { fixtureBundle, gnuPropertyElf } from './support/oci-fixtures';

const hello = app('hello');

t.test('classify: a fixed order, with the reason', (t) => {
  const base = tmpBase(t);
  const proc = (args: string[]) => ({ process: { args, cwd: '/' } });
  const pause = fixtureBundle(base, 'pause', { pause: gnuPropertyElf() }, proc(['/pause']));
  const script = fixtureBundle(base, 'busybox', { sh: '#!/bin/sh\necho hi\n' }, proc(['/sh', '-c', 'true']));
  const noArgs = fixtureBundle(base, 'noargs', {}, proc([]));
  const missing = fixtureBundle(base, 'missing', {}, proc(['/bin/sleep']));
  const outside = fixtureBundle(base, 'outside', {}, proc(['/../../../../etc/passwd']));
  const cases: [string, string, RegExp][] = [
    [pause, 'delegate', /^process\.args\[0\] \/pause: .*no ABI1 note/],
    [script, 'delegate', /^process\.args\[0\] \/sh: not an ELF file$/],
    [noArgs, 'delegate', /^no process\.args\[0\]$/],
    [missing, 'delegate', /does not exist in the image/],
    [outside, 'delegate', /leads outside the image|does not exist/],
  ];
  if (exists(hello)) {
    const uni = fixtureBundle(base, 'uni', { 'hello.spt': fs.readFileSync(hello) }, proc(['/hello.spt']));
    cases.push([uni, 'unikernel', /^process\.args\[0\] \/hello\.spt is a Solo5 ELF$/]);
    const sandbox = fixtureBundle(
      base,
      'sandbox',
      { 'hello.spt': fs.readFileSync(hello) },
      {
        ...proc(['/hello.spt']),
        annotations: { 'io.kubernetes.cri.container-type': 'sandbox' },
      },
    );
    cases.push([sandbox, 'delegate', /^a pod sandbox \(io\.kubernetes\.cri\.container-type=sandbox\)$/]);
    const crio = fixtureBundle(
      base,
      'crio',
      { 'hello.spt': fs.readFileSync(hello) },
      {
        ...proc(['/hello.spt']),
        annotations: { 'io.kubernetes.cri-o.ContainerType': 'sandbox' },
      },
    );
    cases.push([crio, 'delegate', /cri-o/]);
    const off = fixtureBundle(
      base,
      'off',
      { 'hello.spt': fs.readFileSync(hello) },
      { ...proc(['/hello.spt']), annotations: { [KIND_ANNOTATION]: 'false' } },
    );
    cases.push([off, 'delegate', /=false$/]);
  } else t.comment('guest/build/hello.spt is not built: the unikernel rows are left out');
  for (const [bundle, kind, why] of cases) {
    const k = classifyBundle(bundle);
    t.equal(k.kind, kind, `${path.basename(bundle)}: ${kind}`);
    t.match(k.why, why, `${path.basename(bundle)}: ${k.why}`);
  }
  t.same(classify({ annotations: { 'com.urunc.unikernel.binary': '/x' } }, base), {
    kind: 'unikernel',
    why: 'annotation com.urunc.unikernel.binary',
  });
  t.same(
    classify({ annotations: { [KIND_ANNOTATION]: 'true' }, process: { args: ['/pause'] } }, pause).kind,
    'unikernel',
    'our annotation wins over the probe',
  );
  t.end();
});

t.test('runc gets the caller argv, --root alone rewritten to a sibling', (t) => {
  t.equal(runcRoot('/run/solo5-oci/'), '/run/solo5-oci-runc');
  t.same(runcArgv(['--root', '/r', '--log', 'L', 'create', '--bundle', 'B', 'id'], 4, '/r'), [
    '--root',
    '/r-runc',
    '--log',
    'L',
    'create',
    '--bundle',
    'B',
    'id',
  ]);
  t.same(runcArgv(['--log=L', '--root=/r', 'kill', 'id', 'KILL'], 2, '/r'), ['--log=L', '--root=/r-runc', 'kill', 'id', 'KILL']);
  t.same(runcArgv(['--systemd-cgroup', 'start', 'id'], 1, '/run/solo5-oci'), [
    '--root',
    '/run/solo5-oci-runc',
    '--systemd-cgroup',
    'start',
    'id',
  ]);
  // An operand that looks like --root after the command is the command's, not the global flag.
  t.same(runcArgv(['delete', '--root', 'x'], 0, '/r'), ['--root', '/r-runc', 'delete', '--root', 'x']);
  t.end();
});

/** A fake runc: records its pid, argv and one environment variable, and acts out a few commands. */
const FAKE_RUNC = `#!/bin/sh
root=; prev=
for a in "$@"; do
  case "$prev" in --root) root=$a ;; esac
  case "$a" in --root=*) root=\${a#--root=} ;; esac
  prev=$a
done
{ printf '%s' "$$"; for a in "$0" "$@"; do printf ' %s' "$a"; done; printf ' mark=%s\\n' "$SN_TEST_MARK"; } >> "$SN_FAKE_LOG"
printf '%s\\n' "$PATH" > "$(dirname "$SN_FAKE_LOG")/path.log"
for a in "$@"; do last=$a; done
case " $* " in
  *" create "*) mkdir -p "$root/$last"; exit 0 ;;
  *" list "*) echo '[{"ociVersion":"1.0.2","id":"viarunc","pid":1,"status":"running","bundle":"/b","rootfs":"/b/rootfs","created":"c","owner":"root"}]'; exit 0 ;;
  *" kill "*) echo "container not running" >&2; exit 9 ;;
  *" delete "*) kill -TERM $$ ;;
esac
exit 0
`;

t.test('a container that is not a unikernel: runc, same pid, argv, env and status', async (t) => {
  const base = tmpBase(t);
  fs.mkdirSync(path.join(base, 'bin'));
  fs.writeFileSync(path.join(base, 'bin', 'runc'), FAKE_RUNC, { mode: 0o755 });
  const logFile = path.join(base, 'fake.log');
  // The fake runc first on PATH: the one solo5-oci finds.
  const env = { ...process.env, PATH: `${path.join(base, 'bin')}:${process.env.PATH ?? ''}`, SN_FAKE_LOG: logFile, SN_TEST_MARK: 'passed' };
  const stateRoot = path.join(base, 'state');
  const pause = fixtureBundle(base, 'pause', { pause: gnuPropertyElf() }, { process: { args: ['/pause'], cwd: '/' } });
  const createArgs = [
    '--root',
    stateRoot,
    '--log',
    path.join(base, 'log.json'),
    '--log-format',
    'json',
    'create',
    '--bundle',
    pause,
    '--pid-file',
    path.join(base, 'pid'),
    'p1',
  ];
  const child = spawn(process.execPath, [ociCli, ...createArgs], { env, stdio: 'ignore' });
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.equal(status, 0, 'create: runc status passes through');
  const first = fs.readFileSync(logFile, 'utf8').trim().split('\n')[0].split(' ');
  t.equal(Number(first[0]), child.pid, 'runc runs in the same process (exec), so the engine waits for runc itself');
  t.same(
    first.slice(2),
    [...createArgs.map((a) => (a === stateRoot ? runcRoot(stateRoot) : a)), 'mark=passed'],
    'argv but --root unchanged; environment kept',
  );
  t.match(
    fs.readFileSync(path.join(base, 'log.json'), 'utf8'),
    /"level":"debug","msg":"p1: runc: process\.args\[0\] \/pause: [^"]*no ABI1 note/,
    'the reason in --log',
  );
  t.notOk(fs.existsSync(path.join(stateRoot, 'p1')), 'no state of ours');

  const run = (args: string[]) => spawnSync(process.execPath, [ociCli, '--root', stateRoot, ...args], { env, encoding: 'utf8' });
  const k = run(['kill', 'p1', 'KILL']);
  t.equal(k.status, 9, "kill of runc's container: runc's status");
  t.match(k.stderr, /container not running/, "and runc's words, unchanged");
  const d = run(['delete', '--force', 'p1']);
  t.equal(d.signal, 'SIGTERM', 'a signal that ends runc ends the command the engine waits for');
  const l = run(['list', '--format', 'json']);
  t.match(l.stdout, /"id":"viarunc"/, "list merges runc's containers");
  const none = run(['state', 'nobody']);
  t.match(
    none.stderr,
    /^solo5-oci: container nobody does not exist\n$/,
    'an id in neither root is answered here, in the words engines match on',
  );
  t.equal(fs.readFileSync(logFile, 'utf8').trim().split('\n').length, 4, 'runc saw create, kill, delete and list, nothing else');
});

t.test(
  'the front door (addon/oci) hands a pod sandbox, and any command on a container of runc, to runc without node',
  { skip: !exists(ociFront) && `${ociFront} is not built (npm run build:helper)` },
  (t) => {
    const base = tmpBase(t);
    // The front door alone, in a package without dist/: a command it hands to the JS CLI fails, naming it.
    const front = path.join(base, 'pkg', 'addon', 'oci', 'build', 'solo5-oci');
    fs.mkdirSync(path.dirname(front), { recursive: true });
    fs.copyFileSync(ociFront, front);
    fs.chmodSync(front, 0o755);
    fs.mkdirSync(path.join(base, 'bin'));
    fs.writeFileSync(path.join(base, 'bin', 'runc'), FAKE_RUNC, { mode: 0o755 });
    const logFile = path.join(base, 'fake.log');
    const env = { ...process.env, PATH: `${path.join(base, 'bin')}:${process.env.PATH ?? ''}`, SN_FAKE_LOG: logFile, SN_TEST_MARK: 'kept' };
    const stateRoot = path.join(base, 'state');
    const runs = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n') : []);
    const run = (args: string[]) => spawnSync(front, args, { env, encoding: 'utf8' });
    const viaCli = /cannot run .*\/pkg\/dist\/bin\/solo5-oci\.js/;
    const proc = { process: { args: ['/pause'], cwd: '/' } };
    const sandbox = fixtureBundle(
      base,
      'sandbox',
      { pause: gnuPropertyElf() },
      { ...proc, annotations: { 'io.kubernetes.cri.container-type': 'sandbox' } },
    );

    const createArgs = (r: string) => [
      '--root',
      r,
      '--log',
      path.join(base, 'log.json'),
      'create',
      '--bundle',
      sandbox,
      '--pid-file',
      path.join(base, 'pid'),
      'p1',
    ];
    const c = run(createArgs(stateRoot));
    t.equal(c.status, 0, `create of a sandbox: runc's status (${c.stderr.trim()})`);
    const first = runs()[0]?.split(' ') ?? [];
    t.same(first.slice(2), [...createArgs(runcRoot(stateRoot)), 'mark=kept'], 'argv with --root alone changed, environment kept');
    for (const args of [
      ['start', 'p1'],
      ['kill', '--all', 'p1', 'KILL'],
      ['delete', '--force', 'p1'],
    ]) {
      const before = runs().length;
      const r = run([`--root=${stateRoot}`, ...args]);
      t.not(r.stderr, viaCli, `${args[0]} of runc's container: not through the CLI`);
      t.same(
        runs()[before]?.split(' ').slice(2, 4),
        [`--root=${runcRoot(stateRoot)}`, args[0]],
        `${args[0]}: runc, with --root=${runcRoot(stateRoot)}`,
      );
    }
    const before = runs().length;
    t.equal(
      run(['--root', stateRoot, 'delete', '--force', 'gone']).status,
      0,
      'delete --force of a container in neither root succeeds, as the CLI says',
    );
    t.equal(runs().length, before, 'and runs nothing');

    // Every create it is not sure is a sandbox is the CLI's (JSON.parse decides: the last duplicate wins, escapes are decoded).
    const cases: [string, string][] = [
      ['a unikernel bundle', JSON.stringify({ ociVersion: '1.0.2', ...proc })],
      [
        'a later duplicate says otherwise',
        '{"annotations":{"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.container-type":"container"}}',
      ],
      ['a later annotations object', '{"annotations":{"io.kubernetes.cri.container-type":"sandbox"},"annotations":{}}'],
      [
        'an escaped key',
        '{"annotations":{"io.kubernetes.cri.container\\u002dtype":"container","io.kubernetes.cri.container-type":"sandbox"}}',
      ],
      ['not JSON', '{"annotations":{"io.kubernetes.cri.container-type":"sandbox"},}'],
      ['trailing text', '{"annotations":{"io.kubernetes.cri.container-type":"sandbox"}} x'],
      ['a nested annotations object', '{"process":{"annotations":{"io.kubernetes.cri.container-type":"sandbox"}}}'],
    ];
    for (const [what, json] of cases) {
      const dir = path.join(base, what.replace(/ /g, '-'));
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'config.json'), json);
      t.match(run(['--root', stateRoot, 'create', '--bundle', dir, 'x1']).stderr, viaCli, `${what}: the CLI's`);
    }
    const spaced = path.join(base, 'spaced');
    fs.mkdirSync(spaced);
    fs.writeFileSync(
      path.join(spaced, 'config.json'),
      JSON.stringify(
        {
          ociVersion: '1.0.2',
          ...proc,
          annotations: { a: 'b\\"', 'io.kubernetes.cri-o.ContainerType': 'sandbox' },
          n: [1.5e3, -0, true, null],
        },
        null,
        2,
      ),
    );
    t.equal(run(['--root', stateRoot, 'create', '-b', spaced, 'x2']).status, 0, "CRI-O's annotation, indented JSON: runc's");
    t.end();
  },
);
