// net-tap.test.ts: a unikernel on a tap interface inside a network namespace this test creates; the kernel pings it.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { app, root, sptCli } from './support/paths';
import { tapSkip } from './support/tapns';

const ns = `solo5t${process.pid}`;
const skip = tapSkip;
const kping = path.join(root, 'test', 'support', 'kping.py');

function sh(cmd: string[]): void {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr.trim()}`);
}

/** Run argv (an `ip netns exec` command line) and wait until the guest has printed its net device line. */
async function startGuest(argv: string[]): Promise<{ got: { out: string; err: string }; exited: Promise<number | null> }> {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const got = { out: '', err: '' };
  child.stdout.on('data', (b: Buffer) => (got.out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (got.err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // Wait for the line itself, or the end of the process: on a loaded machine start-up takes seconds.
  await new Promise<void>((resolve) => {
    const look = () => {
      if (!got.out.includes('mtu')) return;
      child.stdout.off('data', look);
      resolve();
    };
    child.stdout.on('data', look);
    child.on('close', () => resolve());
  });
  return { got, exited };
}

/** A namespace of the test's own with `tap` up at `cidr`; deleted on teardown. Returns the argv prefix to run inside it. */
function tapNamespace(tt: { teardown(fn: () => void): void }, name: string, tap: string, cidr: string): (cmd: string[]) => string[] {
  sh(['ip', 'netns', 'add', name]);
  tt.teardown(() => spawnSync('ip', ['netns', 'del', name]));
  const inNs = (cmd: string[]) => ['ip', 'netns', 'exec', name, ...cmd];
  sh(inNs(['ip', 'link', 'set', 'lo', 'up']));
  sh(inNs(['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']));
  sh(inNs(['ip', 'addr', 'add', cidr, 'dev', tap]));
  sh(inNs(['ip', 'link', 'set', tap, 'up']));
  return inNs;
}

t.test('the kernel pings a unikernel over tap, inside a private namespace', { skip }, async (tt) => {
  const inNs = tapNamespace(tt, ns, 'tap0', '10.77.0.1/24');

  const guest = await startGuest(inNs([process.execPath, sptCli, '--mem=32', '--net:service=tap0', app('net'), '10.77.0.2', '5']));
  const { got, exited } = guest;
  tt.match(got.out, 'mtu 1500', `the guest sees the tap's MTU ${got.err}`);

  // The kernel's own IP stack (a raw ICMP socket) pings the guest: ARP and echo cross the tap.
  const ping = spawnSync('ip', inNs(['python3', kping, '10.77.0.2', '5']).slice(1), { encoding: 'utf8', timeout: 120_000 });
  tt.equal(ping.status, 0, `kping ran ${ping.stderr}`);
  tt.match(ping.stdout, /sent=5 received=5/, 'the kernel gets every reply');
  const code = await exited;
  tt.equal(code, 0, 'the unikernel exits after 5 replies');
  tt.match(got.out, 'SUCCESS');
});

t.test('a missing tap interface is one line and exit 1', { skip }, async (tt) => {
  sh(['ip', 'netns', 'add', `${ns}b`]);
  tt.teardown(() => spawnSync('ip', ['netns', 'del', `${ns}b`]));
  const r = spawnSync('ip', ['netns', 'exec', `${ns}b`, process.execPath, sptCli, '--net:service=nosuchtap', app('net'), '10.0.0.2'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  tt.equal(r.status, 1);
  tt.equal(
    r.stderr,
    "solo5-spt: Could not attach interface: nosuchtap: No such file or directory\nsolo5-spt: Invalid option: `--net:service=nosuchtap'\nsolo5-spt: net device 'service': tap 'nosuchtap': no such interface\n",
  );
});

t.test('--net:NAME=@N: a tap file descriptor handed over by the caller', { skip }, async (tt) => {
  const inNs = tapNamespace(tt, `${ns}c`, 'tap1', '10.79.0.1/24');
  // The caller opens the tap and passes it as fd 3; the tender only adopts it.
  const script = `
    const { spawn } = require('node:child_process');
    const { native } = require(${JSON.stringify(path.join(root, 'dist', 'lib', 'native.js'))});
    const { fd } = native().openTap('tap1');
    const c = spawn(process.execPath, [${JSON.stringify(sptCli)}, '--mem=32', '--net:service=@3', ${JSON.stringify(app('net'))}, '10.79.0.2', '3'],
      { stdio: ['ignore', 'inherit', 'inherit', fd] });
    c.on('close', (code) => process.exit(code ?? 1));`;
  const { got, exited } = await startGuest(inNs([process.execPath, '-e', script]));
  tt.match(got.out, 'mtu 1500', `the adopted tap's MTU reaches the guest ${got.err}`);
  const ping = spawnSync('ip', inNs(['python3', kping, '10.79.0.2', '3']).slice(1), { encoding: 'utf8', timeout: 120_000 });
  tt.match(ping.stdout, /sent=3 received=3/, 'the kernel gets every reply');
  tt.equal(await exited, 0, 'the unikernel exits after 3 replies');
});

t.test('--net:NAME=@N with a descriptor that is not a tap: one line, exit 1', async (tt) => {
  const r = spawnSync(process.execPath, [sptCli, '--net:service=@0', app('net'), '10.0.0.2'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  tt.equal(r.status, 1);
  tt.match(
    r.stderr,
    /^solo5-spt: Could not attach interface: @0: [^\n]+\nsolo5-spt: Invalid option: `--net:service=@0'\nsolo5-spt: net device 'service': [^\n]+\n$/,
  );
});
