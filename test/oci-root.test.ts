// oci-root.test.ts: solo5-oci believes a state root only if the caller owns it and no one else can write it.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { exists } from './support/paths';
import { oci, ociFront, ociInProcess as inProcess, tmpBase } from './support/oci';

/** A root with one forged container in it: a gate.pid and a state.json naming pid 1. */
function forgedRoot(base: string, mode: number): string {
  const root = path.join(base, 'root');
  fs.mkdirSync(path.join(root, 'forged'), { recursive: true });
  fs.writeFileSync(path.join(root, 'forged', 'gate.pid'), '1 1\n');
  fs.writeFileSync(path.join(root, 'forged', 'state.json'), '{}\n');
  fs.chmodSync(root, mode);
  return root;
}

t.test('a state root that others can write is refused by every command that reads state', async (t) => {
  const root = forgedRoot(tmpBase(t), 0o777);
  for (const args of [['state', 'forged'], ['kill', 'forged', 'KILL'], ['delete', '--force', 'forged'], ['list'], ['start', 'forged']]) {
    const r = await inProcess(['--root', root, ...args]);
    t.equal(r.status, 1, `${args[0]}: exit 1`);
    t.match(
      r.stderr,
      /^solo5-oci: .*\/root: the state root is writable by others \(mode 777\); chmod go-w it or choose another with --root\n$/,
      `${args[0]}: one line naming the root and why`,
    );
  }
  t.ok(fs.existsSync(path.join(root, 'forged', 'gate.pid')), 'nothing was removed');
  const f = await inProcess(['--root', root, 'features']);
  t.equal(f.status, 0, 'features reads no state and still answers');
});

t.test(
  'a state root another user owns is refused',
  { skip: process.geteuid?.() !== 0 && 'needs root to give a directory to another uid' },
  async (t) => {
    const root = forgedRoot(tmpBase(t), 0o700);
    fs.chownSync(root, 65534, 65534);
    const r = await inProcess(['--root', root, 'state', 'forged']);
    t.equal(r.status, 1);
    t.match(
      r.stderr,
      /^solo5-oci: .*\/root: the state root belongs to uid 65534, not to this user \(uid 0\); choose another with --root\n$/,
    );
  },
);

t.test('a private root, or one not made yet, is used as before', async (t) => {
  const base = tmpBase(t);
  const missing = await inProcess(['--root', path.join(base, 'none'), 'state', 'x']);
  t.equal(missing.status, 1);
  t.notMatch(missing.stderr, /state root/, 'a missing root is not a root error');
  const root = path.join(base, 'private');
  fs.mkdirSync(root, { mode: 0o700 });
  const list = await inProcess(['--root', root, 'list']);
  t.equal(list.status, 0, 'list of a private root');
  t.match(list.stdout, /^ID +PID +STATUS +BUNDLE +CREATED +OWNER\n$/, 'with no containers in it');
});

t.test(
  'the front door leaves a root others can write to the CLI, which refuses it',
  { skip: !exists(ociFront) && 'addon/oci/build/solo5-oci is not built' },
  async (t) => {
    const root = forgedRoot(tmpBase(t), 0o777);
    for (const cmd of ['delete', 'start']) {
      const r = oci(root, [cmd, 'forged'], true);
      t.equal(r.status, 1, `${cmd}: exit 1`);
      t.match(r.stderr, /the state root is writable by others/, `${cmd}: the CLI's refusal`);
    }
    t.ok(fs.existsSync(path.join(root, 'forged', 'gate.pid')), 'the forged container is still there: the front door did not act on it');
  },
);
