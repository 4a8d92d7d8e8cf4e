// oci-state.test.ts: solo5-oci in-process: state directory ids, private directories, records, live/zombie/reused pids, and the annotations it reads.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { OWN, readUnikernel, URUNC } from '../lib/oci/annotations';
import { OciError } from '../lib/oci/errors';
import { planFromSpec, type Plan } from '../lib/oci/plan';
import { loadSpec, MAX_OCI_JSON, type Spec } from '../lib/oci/spec';
import {
  checkId,
  containerDir,
  defaultRoot,
  ensurePrivateDir,
  isAlive,
  listIds,
  liveStart,
  loadRecord,
  loadStarted,
  removeDir,
  statusOf,
  writeJson,
  type Record,
} from '../lib/oci/state';
import { buildElf } from './support/elf-builder';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-oci-state-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

t.test('container ids: what runc accepts and nothing a path could abuse', (t) => {
  for (const ok of ['a', 'hello-1', 'A_b.c+d', 'x'.repeat(1024)]) t.equal(checkId(ok), ok, `'${ok.slice(0, 20)}' accepted`);
  for (const bad of [undefined, '', '..', '.x', '-x', 'a/b', 'a b', 'a\nb', 'x'.repeat(1025)]) {
    t.throws(() => checkId(bad), OciError, `${JSON.stringify(bad)?.slice(0, 20)} refused`);
  }
  t.throws(() => containerDir(tmp, '../etc'), OciError, 'containerDir checks the id too');
  t.equal(containerDir(tmp, 'c1'), path.join(tmp, 'c1'));
  t.end();
});

t.test('the default root follows runc: /run for root, XDG_RUNTIME_DIR or /tmp otherwise', (t) => {
  const uid = process.getuid?.();
  const xdg = process.env.XDG_RUNTIME_DIR;
  t.teardown(() => {
    if (xdg === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = xdg;
  });
  if (uid === 0) {
    t.equal(defaultRoot(), '/run/solo5-oci');
  } else {
    process.env.XDG_RUNTIME_DIR = '/run/user/1234';
    t.equal(defaultRoot(), '/run/user/1234/solo5-oci');
    process.env.XDG_RUNTIME_DIR = '';
    t.equal(defaultRoot(), '/tmp/solo5-oci');
  }
  t.end();
});

t.test('state directories are private, and a file in the way is refused', (t) => {
  const dir = path.join(tmp, 'root', 'nested');
  ensurePrivateDir(dir);
  t.equal(fs.statSync(dir).mode & 0o777, 0o700, 'made 0700');
  fs.chmodSync(dir, 0o755);
  ensurePrivateDir(dir);
  t.equal(fs.statSync(dir).mode & 0o777, 0o700, 'a widened directory is narrowed again');
  const file = path.join(tmp, 'afile');
  fs.writeFileSync(file, '');
  t.throws(() => ensurePrivateDir(file), OciError);
  t.end();
});

t.test('records: written whole (0600), read back, and missing or garbled ones named in one line', (t) => {
  const root = path.join(tmp, 'records');
  ensurePrivateDir(root);
  t.throws(() => loadRecord(root, 'nope'), { message: 'container nope does not exist' });
  fs.mkdirSync(path.join(root, 'half'));
  t.throws(() => loadRecord(root, 'half'), { message: 'container half is still being created' });
  fs.writeFileSync(path.join(root, 'half', 'state.json'), '{not json');
  t.throws(() => loadRecord(root, 'half'), /half\/state\.json: unreadable state/);

  const me = liveStart(process.pid);
  t.type(me, 'string', 'this process has a start time');
  const rec: Record = {
    id: 'c1',
    bundle: '/b',
    rootfs: '/b/rootfs',
    pid: process.pid,
    pidStart: me!,
    created: new Date(0).toISOString(),
    owner: 'root',
    annotations: {},
  };
  fs.mkdirSync(path.join(root, 'c1'));
  writeJson(path.join(root, 'c1', 'state.json'), rec);
  t.equal(fs.statSync(path.join(root, 'c1', 'state.json')).mode & 0o777, 0o600, 'the record is 0600');
  t.notOk(fs.existsSync(path.join(root, 'c1', 'state.json.tmp')), 'no temporary file is left');
  t.same(loadRecord(root, 'c1'), rec);
  t.equal(statusOf(root, rec), 'created', 'alive and not started: created');
  t.equal(loadStarted(root, 'c1'), undefined);
  writeJson(path.join(root, 'c1', 'started.json'), { guestPid: 1, guestStart: '1' });
  t.same(loadStarted(root, 'c1'), { guestPid: 1, guestStart: '1' });
  t.equal(statusOf(root, rec), 'running', 'alive and started: running');
  t.equal(statusOf(root, { ...rec, pidStart: `${me}0` }), 'stopped', 'a reused pid (another start time) is not ours');
  t.equal(statusOf(root, { ...rec, pid: 0 }), 'stopped', 'pid 0 is never alive');

  t.same(listIds(root), ['c1', 'half'], 'ids sorted');
  fs.mkdirSync(path.join(root, '.hidden'));
  t.same(listIds(root), ['c1', 'half'], 'names that are not ids are not containers');
  t.same(listIds(path.join(tmp, 'no-such-root')), [], 'no root, no containers');
  removeDir(root, 'c1');
  t.notOk(fs.existsSync(path.join(root, 'c1')), 'removed');
  t.end();
});

t.test('a zombie is not alive, an exited process has no start time', async (t) => {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  // Listened for now: by the time /proc shows the child gone, 'close' may have been emitted.
  const closed = new Promise((r) => child.on('close', r));
  const start = liveStart(child.pid!);
  // Until node reaps it, the exited child is a zombie; 'exit' fires only after the reap, so look before.
  await new Promise<void>((resolve) => {
    const poll = () => {
      let state = '';
      try {
        const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      } catch {
        state = 'gone';
      }
      if (state === 'Z' || state === 'gone') resolve();
      else setImmediate(poll);
    };
    poll();
  });
  t.equal(liveStart(child.pid!), undefined, 'a zombie or reaped child has no live start time');
  if (start !== undefined) t.notOk(isAlive(child.pid!, start), 'so it is not alive');
  await closed;
  t.equal(liveStart(child.pid!), undefined, 'after the reap neither');
});

t.test('annotations: urunc keys, urunc.json in base64 under them, our own keys checked in one line', (t) => {
  const rootfs = fs.mkdtempSync(path.join(tmp, 'rootfs-'));
  const u = readUnikernel(
    {
      [URUNC.binary]: '/app.spt',
      [URUNC.cmdline]: 'a b',
      [URUNC.hypervisor]: 'spt',
      [URUNC.block]: '/disk.img',
      [URUNC.blkDev]: 'storage',
      [OWN.mem]: '48',
      [OWN.ipv4Args]: 'false',
      [`${OWN.netPrefix}service`]: 'eth0',
      [`${OWN.blockPrefix}data`]: '/data.img',
      [`${OWN.sectorPrefix}data`]: '4096',
    },
    rootfs,
  );
  t.same(
    { ...u, net: [...u.net], blocks: [...u.blocks], sectorSizes: [...u.sectorSizes] },
    {
      binary: '/app.spt',
      cmdline: 'a b',
      hypervisor: 'spt',
      block: '/disk.img',
      blockDevice: 'storage',
      netDevice: undefined,
      memMB: 48,
      ipv4Args: false,
      net: [['service', 'eth0']],
      blocks: [['data', '/data.img']],
      sectorSizes: [['data', 4096]],
    },
  );
  fs.writeFileSync(
    path.join(rootfs, 'urunc.json'),
    JSON.stringify({
      [URUNC.binary]: Buffer.from('/from-json.spt').toString('base64'),
      [URUNC.cmdline]: Buffer.from('x').toString('base64'),
    }),
  );
  const j = readUnikernel({ [URUNC.cmdline]: 'annotation wins' }, rootfs);
  t.same([j.binary, j.cmdline, j.ipv4Args], ['/from-json.spt', 'annotation wins', true], 'urunc.json decoded; an annotation wins over it');
  for (const [text, why] of [
    ['{', /urunc\.json in the image: not JSON/],
    ['3', /not a JSON object/],
    ['{"k": 1}', /k: not a string/],
  ] as const) {
    fs.writeFileSync(path.join(rootfs, 'urunc.json'), text);
    t.throws(() => readUnikernel({}, rootfs), why, `urunc.json ${text}`);
  }
  fs.rmSync(path.join(rootfs, 'urunc.json'));
  for (const [a, why] of [
    [{ [OWN.mem]: '12M' }, /org\.solo5-node\.mem: '12M' is not a size in MiB/],
    [{ [OWN.ipv4Args]: 'yes' }, /is not true or false/],
    [{ [`${OWN.netPrefix}bad-name`]: 'eth0' }, /'bad-name' is not a device name/],
    [{ [`${OWN.blockPrefix}data`]: '' }, /a value is required/],
    [{ [`${OWN.sectorPrefix}data`]: 'big' }, /'big' is not a number/],
  ] as const) {
    t.throws(() => readUnikernel(a, rootfs), { name: 'OciError', message: why }, JSON.stringify(a));
  }
  t.end();
});

/** Names that are Object.prototype properties: as device names they must be names like any other. */
const PROTO_NAMES = ['constructor', 'toString', 'hasOwnProperty', '__proto__'];

/** A bundle in `tmp` whose rootfs holds an ELF with these manifest devices at /k.spt, and config.json `configText` if given. */
function protoBundle(devices: { name: string; type: 'NET_BASIC' | 'BLOCK_BASIC' }[], configText?: string): string {
  const bundle = fs.mkdtempSync(path.join(tmp, 'bundle-'));
  fs.mkdirSync(path.join(bundle, 'rootfs'));
  fs.writeFileSync(path.join(bundle, 'rootfs', 'k.spt'), buildElf({ manifest: { type: 'solo5.manifest', version: 1, devices } }).buf);
  if (configText !== undefined) fs.writeFileSync(path.join(bundle, 'config.json'), configText);
  return bundle;
}

const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const specOf = (extra: Partial<Spec> = {}): Spec => ({
  ociVersion: '1.0.2',
  process: { args: ['/k.spt'], user: me },
  root: { path: 'rootfs' },
  ...extra,
});
/** A plan's device records as they are written to plan.json and read back by the monitor. */
const entriesOf = (plan: Plan) => {
  const back = JSON.parse(JSON.stringify(plan)) as Plan;
  return { net: Object.entries(back.net), block: Object.entries(back.block).map(([n, b]) => [n, path.basename(b.path)]) };
};

t.test('plan: device names that are Object.prototype properties are ordinary names', (t) => {
  for (const name of PROTO_NAMES.filter((n) => n !== '__proto__')) {
    const only = protoBundle([{ name, type: 'NET_BASIC' }]);
    t.same(entriesOf(planFromSpec(specOf(), only)).net, [[name, 'eth0']], `the only net device, ${name}, gets eth0`);
    const two = protoBundle([
      { name, type: 'NET_BASIC' },
      { name: 'other', type: 'NET_BASIC' },
    ]);
    const named = specOf({ annotations: { [URUNC.netDev]: name, [`${OWN.netPrefix}other`]: 'eth1' } });
    t.same(
      entriesOf(planFromSpec(named, two)).net,
      [
        ['other', 'eth1'],
        [name, 'eth0'],
      ],
      `${URUNC.netDev}=${name} gets eth0`,
    );
    const wired = specOf({ annotations: { [URUNC.netDev]: name, [`${OWN.netPrefix}${name}`]: 'eth7' } });
    t.same(entriesOf(planFromSpec(wired, only)).net, [[name, 'eth7']], `${OWN.netPrefix}${name} wins over the default`);
  }
  // __proto__ is no manifest name ([A-Za-z0-9]), but the urunc keys and mount destinations carry it as given.
  const guest = protoBundle([{ name: 'constructor', type: 'NET_BASIC' }]);
  const img = path.join(guest, 'rootfs', 'disk.img');
  fs.writeFileSync(img, Buffer.alloc(4096));
  const plan = planFromSpec(
    specOf({
      annotations: { [URUNC.netDev]: '__proto__', [URUNC.block]: '/disk.img', [URUNC.blkDev]: 'toString' },
      mounts: PROTO_NAMES.map((n) => ({ destination: `/solo5/block/${n}`, type: 'bind', source: `/images/m-${n}.img` })),
    }),
    guest,
  );
  t.same(entriesOf(plan), {
    net: [['__proto__', 'eth0']],
    block: PROTO_NAMES.map((n) => [n, n === 'toString' ? 'disk.img' : `m-${n}.img`]),
  });
  t.end();
});

t.test('config.json: keys that are Object.prototype properties are kept as keys, and are no hook phase', (t) => {
  const annotations = `{${PROTO_NAMES.map((n) => `"${n}": "v-${n}"`).join(', ')}}`;
  const text = (hooks: string) =>
    `{"ociVersion": "1.0.2", "process": {"args": ["/k.spt"], "user": {"uid": ${me.uid}, "gid": ${me.gid}}}, "root": {"path": "rootfs"}, "annotations": ${annotations}${hooks}}`;
  const plain = loadSpec(protoBundle([], text('')));
  t.same(
    Object.entries(plain.annotations ?? {}),
    PROTO_NAMES.map((n) => [n, `v-${n}`]),
    'every annotation is an own key with its value',
  );
  for (const name of PROTO_NAMES) {
    const bundle = protoBundle([], text(`, "hooks": {"${name}": [{"path": "/bin/true"}]}`));
    t.throws(() => planFromSpec(loadSpec(bundle), bundle), {
      name: 'OciError',
      message: `hooks.${name}: not a hook phase this runtime knows`,
    });
  }
  t.end();
});

t.test("kubelet's mounts for every container (termination log, service-account token, hosts) are no reason to refuse", (t) => {
  const bundle = protoBundle([]);
  const kubelet = [
    '/dev/termination-log',
    '/var/run/secrets/kubernetes.io/serviceaccount',
    '/etc/hosts',
    '/etc/hostname',
    '/etc/resolv.conf',
  ];
  const plan = planFromSpec(
    specOf({ mounts: kubelet.map((d) => ({ destination: d, type: 'bind', source: '/x', options: ['rbind'] })) }),
    bundle,
  );
  t.same(entriesOf(plan).block, [], 'none becomes a block device');
  t.throws(() => planFromSpec(specOf({ mounts: [{ destination: '/var/run/other', type: 'bind', source: '/x' }] }), bundle), {
    message: /mounts\[0\]: a bind mount at \/var\/run\/other has nowhere to go/,
  });
  t.end();
});

t.test('config.json and urunc.json: a FIFO, /dev/zero, a directory or an oversized file is refused at once, in one line', (t) => {
  // The fourth field: what urunc.json gets instead, when the image's link leads out of it.
  const kinds: [string, (file: string) => void, string, string?][] = [
    ['a FIFO', (f) => execFileSync('mkfifo', [f]), 'not a regular file'],
    ['a symlink to /dev/zero', (f) => fs.symlinkSync('/dev/zero', f), 'not a regular file', 'urunc.json leads outside the image'],
    ['a directory', (f) => fs.mkdirSync(f), 'not a regular file'],
    [
      'a file over the limit',
      (f) => {
        fs.writeFileSync(f, '');
        fs.truncateSync(f, MAX_OCI_JSON + 1);
      },
      `${MAX_OCI_JSON + 1} bytes, larger than the ${MAX_OCI_JSON}-byte limit`,
    ],
  ];
  for (const [what, make, why, uruncWhy] of kinds) {
    const bundle = protoBundle([]);
    const config = path.join(bundle, 'config.json');
    make(config);
    t.throws(() => loadSpec(bundle), { name: 'OciError', message: `${config}: ${why}` }, `config.json: ${what}`);
    make(path.join(bundle, 'rootfs', 'urunc.json'));
    t.throws(
      () => readUnikernel({}, path.join(bundle, 'rootfs')),
      { name: 'OciError', message: `urunc.json in the image: ${uruncWhy ?? why}` },
      `urunc.json: ${what}`,
    );
  }
  t.end();
});

t.test('urunc.json: a link out of the image is refused in one line, and no error shows what a file holds', (t) => {
  const SECRET = 'host-secret-7c1f9e';
  const outside = path.join(tmp, 'outside-secret.json');
  fs.writeFileSync(outside, `${SECRET} is not JSON`);
  const good = JSON.stringify({ [URUNC.cmdline]: Buffer.from('from the image').toString('base64') });
  // V8 quotes only the first characters of a long text: look for a few of them.
  const notOne = (e: unknown) => e instanceof OciError && !e.message.includes('\n') && !e.message.includes(SECRET.slice(0, 6));
  for (const what of ['an absolute', 'a relative ../']) {
    const rootfs = path.join(fs.mkdtempSync(path.join(tmp, 'escape-')), 'rootfs');
    fs.mkdirSync(rootfs);
    fs.symlinkSync(what === 'an absolute' ? outside : path.relative(rootfs, outside), path.join(rootfs, 'urunc.json'));
    t.ok(fs.existsSync(path.join(rootfs, 'urunc.json')), `${what} link reaches the host file`);
    t.throws(
      () => readUnikernel({}, rootfs),
      { name: 'OciError', message: 'urunc.json in the image: urunc.json leads outside the image' },
      `${what} link to a host file is refused`,
    );
    try {
      readUnikernel({}, rootfs);
    } catch (e) {
      t.ok(notOne(e), `${what} link: one line, without the host file's contents`);
    }
  }
  // A link that stays inside the image is followed, to a file and through a directory link.
  const rootfs = fs.mkdtempSync(path.join(tmp, 'inside-'));
  fs.mkdirSync(path.join(rootfs, 'etc'));
  fs.writeFileSync(path.join(rootfs, 'etc', 'real.json'), good);
  fs.symlinkSync('etc/real.json', path.join(rootfs, 'urunc.json'));
  t.equal(readUnikernel({}, rootfs).cmdline, 'from the image', 'a relative link inside the image works');
  // Malformed JSON: the file and where it breaks, not the text V8 would quote.
  for (const text of [SECRET, `{"a": ${SECRET}}`, `{"a": "x"} ${SECRET}`, `{"a": "${SECRET}"`]) {
    fs.rmSync(path.join(rootfs, 'urunc.json'));
    fs.writeFileSync(path.join(rootfs, 'urunc.json'), text);
    try {
      readUnikernel({}, rootfs);
      t.fail(`${text}: accepted`);
    } catch (e) {
      t.match((e as Error).message, /^urunc\.json in the image: not JSON \(/, `${text}: refused as not JSON`);
      t.ok(notOne(e), `${text}: the error does not quote the file (${(e as Error).message})`);
    }
  }
  t.end();
});
