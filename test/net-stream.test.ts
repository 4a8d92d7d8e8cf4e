// net-stream.test.ts: a test socket speaking the framing (as QEMU -netdev stream does) talks to bundled unikernels through the tender.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { launch } from '../lib';
import { parseTenderArgs, usage } from '../lib/cli/tender-args';
import { Pinger } from '../lib/net/pinger';
import { app, root, sptCli } from './support/paths';
import { StreamListener } from './support/stream-peer';

const PEER_MAC = Buffer.from([2, 0, 0, 0, 0x5e, 1]);
const solo5App = (name: string) => path.join(root, 'guest', 'build', 'solo5', `${name}.spt`);

for (const [abi, kernel] of [
  ['ring ABI', app('net')],
  ['Solo5 ABI', solo5App('net')],
] as const) {
  t.test(`${abi}: frames cross both ways between a stream peer and the guest (API, NetAttach.unix)`, async (tt) => {
    const l = await StreamListener.open();
    tt.teardown(() => l.close());
    const N = 50;
    const guest = await launch({ kernel, args: ['10.0.0.2', String(N)], memMB: 32, console: 'pipe', net: { service: { unix: l.path } } });
    let out = '';
    guest.console?.on('data', (b: Buffer) => (out += b.toString()));
    const peer = await l.accept(PEER_MAC);
    const pinger = new Pinger(peer, '10.0.0.1');
    const mac = await pinger.resolve('10.0.0.2');
    tt.equal(mac.length, 6, 'the guest answers ARP over the stream');
    const r = await pinger.ping('10.0.0.2', mac, N, { window: 8 });
    tt.same([r.received, r.corrupt], [N, 0], `${N} echo replies, intact`);
    const exit = await guest.exited;
    tt.equal(exit.status, 0, 'the guest exits after N replies');
    tt.match(out, 'SUCCESS');
    const c = guest.counters();
    tt.ok(
      c['service.rxPackets'] >= N + 1 && c['service.txPackets'] >= N + 1,
      `counters: rx ${c['service.rxPackets']}, tx ${c['service.txPackets']}`,
    );
    tt.equal(c['service.linkDown'], 0, 'the link stayed up');
  });
}

t.test('CLI: --net:service=unix:PATH with a pcap of the stream device', async (tt) => {
  const l = await StreamListener.open();
  tt.teardown(() => l.close());
  const pcap = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sn-pcap-')), 'service.pcap');
  tt.teardown(() => fs.rmSync(path.dirname(pcap), { recursive: true, force: true }));
  const N = 10;
  const child = spawn(
    process.execPath,
    [sptCli, '--mem=32', `--net:service=unix:${l.path}`, `--net-pcap:service=${pcap}`, app('net'), '10.0.0.2', String(N)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const got = { out: '', err: '' };
  child.stdout.on('data', (b: Buffer) => (got.out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (got.err += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const peer = await l.accept(PEER_MAC);
  const pinger = new Pinger(peer, '10.0.0.1');
  const mac = await pinger.resolve('10.0.0.2');
  const r = await pinger.ping('10.0.0.2', mac, N);
  tt.equal(r.received, N, `${N} replies through the CLI tender`);
  tt.equal(await exited, 0, `exit 0 ${got.err}`);
  tt.match(got.out, 'SUCCESS');
  // 24-byte file header, then 16 bytes + the frame per record.
  const cap = fs.readFileSync(pcap);
  let records = 0;
  for (let off = 24; off + 16 <= cap.length; off += 16 + cap.readUInt32LE(off + 8)) records++;
  tt.ok(records >= 2 * (N + 1), `the pcap holds both directions (${records} frames)`);
});

t.test('CLI: a socket nobody listens on is one line naming the device and the path, exit 1', async (tt) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-nosock-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const missing = path.join(dir, 'x.sock');
  const r = spawnSync(process.execPath, [sptCli, `--net:service=unix:${missing}`, app('net'), '10.0.0.2'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  tt.equal(r.status, 1);
  tt.equal(r.stderr, `solo5-spt: net device 'service': unix:${missing}: cannot connect: no such socket\n`);
  const empty = spawnSync(process.execPath, [sptCli, '--net:service=unix:', app('net'), '10.0.0.2'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  tt.equal(empty.status, 1);
  tt.match(empty.stderr, /^solo5-spt: --net:service=unix: needs the path of a socket/);
});

t.test('--net:NAME=unix:PATH parses to NetAttach.unix; anything else stays a tap name', async (tt) => {
  const a = parseTenderArgs(['--net:a=unix:/run/x.sock', '--net:b=tap0', '--net:c=@3', '--net-mac:a=02:00:00:00:00:01', 'k'], 'spt');
  const net = a.launch.net instanceof Map ? a.launch.net : new Map(Object.entries(a.launch.net ?? {}));
  tt.same(net.get('a'), { unix: '/run/x.sock', mac: '02:00:00:00:00:01' });
  tt.same(net.get('b'), { iface: 'tap0' });
  tt.same(net.get('c'), { iface: '@3' });
  tt.throws(() => parseTenderArgs(['--net:a=unix:', 'k'], 'spt'), /^--net:a=unix: needs the path of a socket/);
  tt.match(usage('solo5-spt', 'spt'), /\n {2}--net:NAME=unix:PATH {5}connect net device NAME/);
});
