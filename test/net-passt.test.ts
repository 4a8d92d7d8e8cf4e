// net-passt.test.ts: --net:NAME=passt end to end, in a network namespace the test creates: echo, ping, host mapping, failures.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { app, root, sptCli } from './support/paths';
import { passtChildren, passtMissingUnderCi, passtNamespace, passtSkip, runtimeCopy, start, type PasstNs } from './support/passt-ns';
import { startTime, waitGone } from './support/proc';
import { testSeed } from './support/seed';

const NOBODY = { uid: 65534, gid: 65534 };
const seed = testSeed();
// Ports and subnets differ per run so that parallel runs of the suite do not meet.
const port = 20000 + (seed % 20000);

t.test('passt is present where CI installs it', { skip: process.env.CI !== 'true' && 'not under CI' }, async (tt) => {
  tt.notOk(passtMissingUnderCi, '.ci/run installs passt: it must be on PATH');
});

t.test('bad --net-forward values: one line naming the option, exit 1', async (tt) => {
  for (const v of ['udp:0:7', 'udp:5000:70000', 'icmp:1:2', 'udp:nohost:5000:7', 'udp:5000']) {
    const r = spawnSync(
      process.execPath,
      [sptCli, '--net:service=passt', `--net-forward:service=${v}`, app('udpecho'), '--ipv4=10.0.0.2/24'],
      {
        encoding: 'utf8',
      },
    );
    tt.equal(r.status, 1, `${v}: exit 1`);
    tt.match(r.stderr, /^solo5-spt: --net-forward:service: '[^\n]*\n$/, `${v}: one line naming the option`);
  }
  const r = spawnSync(process.execPath, [sptCli, '--net:service=tap0', '--net-forward:service=udp:1:7', app('udpecho')], {
    encoding: 'utf8',
  });
  tt.match(r.stderr, /^solo5-spt: --net-forward:service: no --net:service=passt to apply it to\n$/);
});

t.test('no passt on PATH: one line, exit 1', async (tt) => {
  const r = spawnSync(process.execPath, [sptCli, '--net:service=passt', app('udpecho'), '--ipv4=10.0.0.2/24'], {
    encoding: 'utf8',
    env: { PATH: '/nonexistent' },
  });
  tt.equal(r.status, 1);
  tt.match(r.stderr, /^solo5-spt: net device 'service': passt is not installed: no passt on PATH[^\n]*\n$/);
});

/** A stand-in `passt` on PATH: a shell script with the given body (it sees passt's arguments as "$@"). */
function fakePasst(tt: Test, body: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-fake-passt-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'passt'), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return dir;
}

t.test('a passt without --fd is too old: one line, exit 1', async (tt) => {
  const dir = fakePasst(tt, 'echo "Usage: passt [OPTION]..."; exit 1');
  const r = spawnSync(process.execPath, [sptCli, '--net:service=passt', app('udpecho'), '--ipv4=10.0.0.2/24'], {
    encoding: 'utf8',
    env: { PATH: dir },
  });
  tt.equal(r.status, 1);
  tt.match(r.stderr, /^solo5-spt: net device 'service': [^\n]*\/passt is too old: it has no --fd option[^\n]*\n$/);
});

t.test('passt that fails before it is ready: one line quoting it, exit 1, no guest', async (tt) => {
  // It logs an error where -l says and exits, as passt does without a usable interface.
  const dir = fakePasst(
    tt,
    [
      'case "$1" in --help) echo "  -F, --fd FD   Use FD as pre-opened connected socket"; exit 1;; esac',
      'while [ $# -gt 0 ]; do if [ "$1" = -l ]; then log=$2; fi; shift; done',
      'echo "0.0012: ERROR:   External interface not usable" >> "$log"',
      'exit 1',
    ].join('\n'),
  );
  const r = spawnSync(process.execPath, [sptCli, '--net:service=passt', app('udpecho'), '--ipv4={service.ipv4}'], {
    encoding: 'utf8',
    env: { PATH: `${dir}:/usr/bin:/bin` },
  });
  tt.equal(r.status, 1);
  tt.match(
    r.stderr,
    /^solo5-spt: net device 'service': passt ended \(status 1\) before it was ready: passt said: ERROR: +External interface not usable\n$/,
  );
  tt.equal(r.stdout, '', 'the guest never ran');
});

/** The passt line, the guest's start and its address as passt reported it. */
async function started(g: ReturnType<typeof start>, ns: PasstNs, tt: Test): Promise<void> {
  const m = await g.waitFor(/service: passt gives the guest (\S+)\/(\d+) via (\S+), DNS (\S+)/, 'the passt report line');
  tt.strictSame(
    [m[1], m[2], m[3], m[4]],
    [ns.guestAddress, '24', ns.gateway, ns.dns],
    'the report names the template address, gateway and resolver',
  );
  await g.waitFor(new RegExp(`mtu 1500 ip ${ns.guestAddress.replace(/\./g, '\\.')}`), 'the guest start line');
}

/** A client on the namespace's loopback sends `n` datagrams to the forwarded port, each waiting for its echo. */
function echoFromHost(ns: PasstNs, n: number): string {
  const argv = ns.inNs([
    'python3',
    path.join(root, 'test', 'support', 'udp_probe.py'),
    'echo',
    '127.0.0.1',
    String(port),
    String(n),
    String(seed),
  ]);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  return r.stdout + r.stderr;
}

const builds: [string, string][] = [
  ['ring ABI', app('udpecho')],
  ['Solo5 ABI', path.join(root, 'guest', 'build', 'solo5', 'udpecho.spt')],
];

for (const [abi, kernel] of builds) {
  t.test(`${abi}: the tender as nobody, passt forwarding UDP to the guest's echo`, { skip: passtSkip }, async (tt) => {
    const ns = passtNamespace(tt, `solo5p${process.pid}${abi[0]}`, 200 + (seed % 20) * 2 + (abi[0] === 'r' ? 0 : 1));
    const dir = runtimeCopy(tt);
    const probe = path.join(root, 'test', 'support', 'udp_probe.py');
    const listener = start(ns.inNs(['python3', probe, 'listen', '127.0.0.1', String(port + 1)]));
    tt.teardown(() => listener.kill('SIGKILL'));
    await listener.waitFor(/listening/, 'the host listener');
    const cli = path.join(dir, 'dist', 'bin', 'solo5-spt.js');
    const image = path.join(dir, path.relative(root, kernel));
    const g = start(
      ns.inNs([
        'setpriv',
        `--reuid=${NOBODY.uid}`,
        `--regid=${NOBODY.gid}`,
        '--clear-groups',
        '--',
        process.execPath,
        cli,
        '--mem=32',
        '--net:service=passt',
        `--net-forward:service=udp:${port}:7`,
        image,
        '--ipv4={service.ipv4}',
        '--ipv4-gateway={service.gateway}',
        `--ping=${ns.pingTarget}`,
        `--send=${port + 1}`,
      ]),
      { cwd: dir },
    );
    tt.teardown(() => g.kill('SIGKILL'));
    await started(g, ns, tt);

    tt.match(echoFromHost(ns, 20), /echoed=20 of 20/, 'a client on the namespace loopback gets its datagrams echoed');
    const heard = await listener.waitFor(/got=udpecho says hello \d from=(\S+)/, 'a datagram from the guest');
    tt.equal(heard[1], '127.0.0.1', 'UDP the guest sends to the gateway reaches the host loopback');
    await g.waitFor(new RegExp(`ping reply from ${ns.pingTarget.replace(/\./g, '\\.')} seq`), 'an echo reply');
    tt.pass('the guest pings an address of the namespace through passt');

    const [passt] = passtChildren(g.pid);
    tt.ok(passt, 'passt runs as a child of the tender');
    process.kill(passt, 'SIGKILL');
    await g.waitFor(/service: passt was killed by SIGKILL[^\n]*the device is down, the guest keeps running/, 'the device-down line');
    g.kill('SIGTERM');
    const end = await g.exited;
    // The tender kills its guest, then ends by the SIGTERM it was sent (a shell shows 143).
    tt.same([end.code, end.signal], [null, 'SIGTERM'], `the guest was still running when the tender was told to stop ${g.err}`);
    tt.equal(g.err.match(/passt was killed/g)?.length, 1, 'exactly one line for the dead passt');
  });
}

t.test('as root: passt and the guest drop to nobody; killing the tender ends passt', { skip: passtSkip }, async (tt) => {
  const ns = passtNamespace(tt, `solo5p${process.pid}k`, 160 + (seed % 20));
  const g = start(
    ns.inNs([
      process.execPath,
      sptCli,
      '--mem=32',
      '--net:service=passt',
      `--net-forward:service=udp:${port}:7`,
      app('udpecho'),
      '--ipv4={service.ipv4}',
    ]),
  );
  tt.teardown(() => g.kill('SIGKILL'));
  await started(g, ns, tt);
  tt.match(echoFromHost(ns, 5), /echoed=5 of 5/, 'the echo works with the tender as root');
  const [passt] = passtChildren(g.pid);
  tt.ok(passt, 'passt found');
  const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${passt}/status`, 'utf8'))?.[1];
  tt.equal(uid, String(NOBODY.uid), 'passt runs as nobody, the guest user');
  const since = startTime(passt)!;
  g.kill('SIGKILL');
  await g.exited;
  tt.ok(await waitGone(passt, since), 'passt ends when the tender is killed (its socket closed): no orphan');
});

t.test('API: guest.net tells what passt offers; an API user that dies of an exception leaves no passt', { skip: passtSkip }, async (tt) => {
  const ns = passtNamespace(tt, `solo5p${process.pid}a`, 190 + (seed % 10));
  // The API user runs inside the namespace: it prints what it learnt, then dies of an uncaught exception.
  const script = `
    const { launch } = require(${JSON.stringify(path.join(root, 'dist', 'lib', 'index.js'))});
    (async () => {
      const g = await launch({
        kernel: ${JSON.stringify(app('udpecho'))}, memMB: 32, console: 'pipe',
        args: ['--ipv4={service.ipv4}', '--ipv4-gateway={service.gateway}'],
        net: { service: { passt: { forwards: [{ proto: 'udp', hostPort: ${port}, guestPort: 7 }] } } },
      });
      console.log('NET ' + JSON.stringify(g.net.get('service')));
      let out = '';
      g.console.on('data', (b) => {
        process.stdout.write(b);
        out += b;
        if (/ mtu [0-9]+ ip /.test(out)) throw new Error('an API user bug');
      });
    })();
  `;
  const u = start(ns.inNs([process.execPath, '-e', script]));
  tt.teardown(() => u.kill('SIGKILL'));
  const m = await u.waitFor(/NET (\{[^\n]*\})/, "the API user's report");
  const net = JSON.parse(m[1]) as { mac: string; mtu: number; passt: { pid: number; ipv4: object; dns: string[]; template: string } };
  tt.strictSame(net.passt.ipv4, { address: ns.guestAddress, prefix: 24, netmask: '255.255.255.0', gateway: ns.gateway });
  tt.strictSame(net.passt.dns, [ns.dns]);
  tt.equal(net.passt.template, 'tpl0');
  tt.equal(net.mtu, 1500);
  tt.match(net.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  const since = startTime(net.passt.pid);
  tt.ok(since, 'passt runs');
  const end = await u.exited;
  tt.not(end.code, 0, 'the API user died of its exception');
  tt.match(u.err, /an API user bug/);
  tt.match(u.out, new RegExp(`ip ${ns.guestAddress.replace(/\./g, '\\.')}`), 'the placeholders were filled in before the guest started');
  tt.ok(await waitGone(net.passt.pid, since!), 'passt ended with the process that started it');
});
