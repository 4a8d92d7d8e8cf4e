// oci-console.test.ts: a terminal (-t): create hands a pty's master over --console-socket, and the guest's console reaches it.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { app, exists } from './support/paths';
import { create, makeBundle, oci, processesWith, tmpBase } from './support/oci';

const hello = app('hello');
const TTY = { process: { args: ['/hello.spt', 'on a tty'], terminal: true } };

/*
 * The engine's end, as conmon and containerd's shim play it: listen, take one
 * message with one SCM_RIGHTS fd, then read the pty master until it reports
 * that every slave is closed. Node cannot receive fds; python3 can.
 */
const RECEIVER = `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 4096, 4)
print("name=%s fds=%d" % (msg.decode(), len(fds)), flush=True)
os.set_blocking(fds[0], True)
while True:
    try:
        d = os.read(fds[0], 4096)
    except OSError:
        break
    if not d:
        break
    sys.stdout.write(d.decode(errors="replace")); sys.stdout.flush()
`;

interface Receiver {
  /** Everything it printed, once it exited (the master saw the last slave close). */
  done: Promise<string>;
}

/** Start the receiver on `sock`; resolves once it listens. */
function receiver(dir: string, sock: string): Promise<Receiver> {
  const script = path.join(dir, 'receiver.py');
  fs.writeFileSync(script, RECEIVER);
  const p = spawn('python3', [script, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.setEncoding('utf8');
  const done = new Promise<string>((resolve) => p.on('close', () => resolve(out)));
  return new Promise((resolve, reject) => {
    p.on('error', reject);
    p.stdout.on('data', (d: string) => {
      const first = out === '';
      out += d;
      if (first) resolve({ done });
    });
  });
}

const noPython = spawnSync('python3', ['-c', 'import socket; socket.recv_fds'], { stdio: 'ignore' }).status !== 0;
const skip = !exists(hello)
  ? 'guest/build/hello.spt is not built'
  : noPython
    ? 'python3 (3.9 or later) is needed to receive the pty fd'
    : false;

t.test('create --console-socket: the engine gets the pty master, the guest writes to the pty', { skip }, async (t) => {
  const base = tmpBase(t);
  const stateRoot = path.join(base, 'state');
  const sock = path.join(base, 'console.sock');
  const b = makeBundle(base, hello, [], TTY);
  const r = await receiver(base, sock);
  const c = await create(stateRoot, b.dir, 'tty', ['--console-socket', sock]);
  t.equal(c.status, 0, `create succeeds (${c.stderr.trim()})`);
  t.equal((JSON.parse(oci(stateRoot, ['state', 'tty']).stdout) as { status: string }).status, 'created');
  t.equal(oci(stateRoot, ['start', 'tty']).status, 0, 'start succeeds');
  const out = await r.done;
  t.match(out, /^listening\nname=\/dev\/ptmx fds=1\n/, 'one message naming the pty, with one fd');
  // The pty's line discipline turns \n into \r\n: proof that the output went through a terminal.
  t.match(out, /Hello, World\r\nCommand line is: 'on a tty'\r\nSUCCESS\r\n/, 'the console reaches the master');
  t.equal(await c.console, '', "nothing went to create's own stdout");
  t.equal((JSON.parse(oci(stateRoot, ['state', 'tty']).stdout) as { status: string }).status, 'stopped');
  t.equal(oci(stateRoot, ['delete', 'tty']).status, 0);
  t.same(processesWith(stateRoot), [], 'no process is left');
});

t.test(
  'terminal refusals: one line, exit 1, nothing left behind',
  { skip: !exists(hello) && 'guest/build/hello.spt is not built' },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const tty = makeBundle(base, hello, [], TTY);
    const plain = makeBundle(base, hello, []);
    const cases: [string, string[], RegExp][] = [
      [
        'a socket nobody listens on',
        ['create', '--bundle', tty.dir, '--console-socket', path.join(base, 'nobody.sock'), 'x'],
        /--console-socket .*nobody\.sock: connect failed: ENOENT/,
      ],
      [
        'a console socket without a terminal',
        ['create', '--bundle', plain.dir, '--console-socket', path.join(base, 'c.sock'), 'x'],
        /--console-socket: config\.json does not ask for a terminal/,
      ],
      [
        'run in the foreground with a terminal',
        ['run', '--bundle', tty.dir, 'x'],
        /process\.terminal: run in the foreground cannot take a terminal/,
      ],
    ];
    for (const [name, args, re] of cases) {
      const r = oci(stateRoot, args);
      t.equal(r.status, 1, `${name}: exit 1`);
      t.equal(r.stderr.split('\n').length, 2, `${name}: one line (${r.stderr.trim()})`);
      t.match(r.stderr, re, name);
    }
    t.same(fs.readdirSync(stateRoot), [], 'no state directory is left');
    t.same(processesWith(stateRoot), [], 'no monitor is left');
  },
);
