// net-stream-passt.test.ts: --net:NAME=unix:PATH against a real `passt --socket PATH` in a namespace this test creates.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { app, sptCli } from './support/paths';
import { tapNamespace, tapSkip } from './support/tapns';

const hasPasst = spawnSync('sh', ['-c', 'command -v passt'], { encoding: 'utf8' }).status === 0;
// .ci/run installs passt: under CI its absence is a failure, elsewhere a reason to skip.
const skip = tapSkip || (!hasPasst && process.env.CI !== 'true' ? 'passt is not installed (Debian package passt)' : false);

t.test('a unikernel pings through passt over the stream socket passt listens on', { skip }, async (tt) => {
  tt.ok(hasPasst, 'passt is installed');
  // passt needs a template interface with an address and a default route; the
  // address the guest pings lives on lo, so nothing leaves the namespace.
  const ns = `snpst${process.pid}`;
  const inNs = tapNamespace(tt, ns, 'tpl0', '10.88.0.5/24');
  const run = (cmd: string[]) => {
    const r = spawnSync(inNs(cmd)[0], inNs(cmd).slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
  };
  run(['ip', 'addr', 'add', '10.99.0.1/32', 'dev', 'lo']);
  run(['ip', 'route', 'add', 'default', 'via', '10.88.0.1', 'dev', 'tpl0']);
  // passt relays the guest's echo requests through ping sockets as the user it drops to.
  run(['sysctl', '-q', '-w', 'net.ipv4.ping_group_range=0 2147483647']);
  // passt runs as nobody: the socket's directory is nobody's alone.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-passt-'));
  fs.chownSync(dir, 65534, 65534);
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sock = path.join(dir, 'passt.sock');
  const passtArgv = inNs(['passt', '-f', '-1', '--socket', sock]);
  const passt = spawn(passtArgv[0], passtArgv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  tt.teardown(() => passt.kill('SIGKILL'));
  let said = '';
  await new Promise<void>((resolve, reject) => {
    const look = (b: Buffer) => {
      said += b.toString();
      if (said.includes('UNIX domain socket bound')) resolve();
    };
    passt.stdout.on('data', look);
    passt.stderr.on('data', look);
    passt.on('close', () => reject(new Error(`passt ended: ${said}`)));
  });
  const argv = inNs([process.execPath, sptCli, '--mem=32', `--net:service=unix:${sock}`, app('ping'), '10.88.0.5', '10.99.0.1', '5']);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  tt.equal(r.status, 0, `the guest's pings are answered through passt ${r.stderr}`);
  tt.match(r.stdout, 'ping: received=5 of 5');
});
