// affinity.test.ts: a ring-ABI guest on a tap or stream link shares one CPU with its pump inside the allowed mask; 'none', switch and block guests keep theirs.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { launch, VirtualSwitch } from '../lib';
import { Pinger } from '../lib/net/pinger';
import { app, sptCli } from './support/paths';
import { childrenOf, procStatus } from './support/proc';
import { StreamListener } from './support/stream-peer';

const PEER_MAC = Buffer.from([2, 0, 0, 0, 0x5e, 1]);

/** "0-2,5" -> [0, 1, 2, 5] */
function cpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',').filter((p) => p !== '')) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

const allowedOf = (pid: number) => cpuList(procStatus(pid).get('Cpus_allowed_list') ?? '');

/** The CPUs the pump threads of process `pid` may use, one list per pump. */
function pumpMasks(pid: number): number[][] {
  const out: number[][] = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const dir = `/proc/${pid}/task/${tid}`;
    if (fs.readFileSync(`${dir}/comm`, 'utf8').trim() !== 'sn-pump') continue;
    const line = fs
      .readFileSync(`${dir}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Cpus_allowed_list:'));
    out.push(cpuList(line?.split(':')[1].trim() ?? ''));
  }
  return out;
}

t.test('auto: a guest on a stream link and its pump run on one CPU the tender may use, and it still answers', async (tt) => {
  const mine = allowedOf(process.pid);
  const l = await StreamListener.open();
  tt.teardown(() => l.close());
  const N = 2000;
  const guest = await launch({
    kernel: app('net'),
    args: ['--solo5:quiet', '10.0.0.2', String(N)],
    memMB: 32,
    net: { service: { unix: l.path } },
    affinity: 'auto',
  });
  const cpu = guest.counters()['pump.cpu'];
  tt.ok(mine.includes(cpu), `the chosen CPU ${cpu} is one of the tender's ${JSON.stringify(mine)}`);
  tt.same(allowedOf(guest.pid), [cpu], 'the guest process is narrowed to that CPU');
  tt.same(pumpMasks(process.pid), [[cpu]], 'and so is its pump thread');
  // Neither side may spin while the other needs the CPU: every request is still answered.
  const pinger = new Pinger(await l.accept(PEER_MAC), '10.0.0.1');
  const mac = await pinger.resolve('10.0.0.2');
  const r = await pinger.ping('10.0.0.2', mac, N, { window: 4 });
  tt.same([r.received, r.corrupt], [N, 0], `${N} echo replies from a guest sharing its pump's CPU`);
  tt.equal((await guest.exited).status, 0);
});

t.test('a guest on the in-process switch keeps its mask (guest-to-guest traffic wants two CPUs)', async (tt) => {
  const sw = new VirtualSwitch();
  tt.teardown(() => sw.close());
  const guest = await launch({
    kernel: app('net'),
    args: ['--solo5:quiet', '10.0.0.2', '1'],
    memMB: 32,
    net: { service: { switch: sw } },
    affinity: 'auto',
  });
  tt.equal(guest.counters()['pump.cpu'], -1, 'no CPU chosen');
  tt.same(allowedOf(guest.pid), allowedOf(process.pid), 'the guest keeps the mask it inherited');
  guest.kill('SIGKILL');
  await guest.exited;
});

t.test("the default and affinity: 'none' leave a stream-link guest and its pump as the tender is", async (tt) => {
  const mine = allowedOf(process.pid);
  for (const affinity of [undefined, 'none'] as const) {
    const l = await StreamListener.open();
    tt.teardown(() => l.close());
    const guest = await launch({
      kernel: app('net'),
      args: ['--solo5:quiet', '10.0.0.2', '1'],
      memMB: 32,
      affinity,
      net: { service: { unix: l.path } },
    });
    const how = affinity ?? 'the default';
    tt.equal(guest.counters()['pump.cpu'], -1, `${how}: no CPU chosen`);
    tt.same(allowedOf(guest.pid), mine, `${how}: the guest keeps the mask it inherited`);
    tt.same(pumpMasks(process.pid), [mine], `${how}: so does the pump`);
    tt.equal(guest.counters()['pump.cpuMoves'], 0, `${how}: a pump without block devices never moves itself`);
    guest.kill('SIGKILL');
    await guest.exited;
  }
});

t.test('a guest with a block device keeps its mask (block I/O wants two spinning CPUs)', async (tt) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-aff-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const img = path.join(dir, 'disk.img');
  fs.writeFileSync(img, Buffer.alloc(1 << 20));
  const guest = await launch({ kernel: app('blk'), memMB: 32, console: 'pipe', block: { storage: { path: img } }, affinity: 'auto' });
  guest.console?.resume();
  tt.equal((await guest.exited).status, 0, 'blk ran');
  tt.equal(guest.counters()['pump.cpu'], -1, 'no CPU chosen for a guest with a block device');
});

t.test('a block guest and its pump: the pump only ever moves itself after a completion found the guest asleep', async (tt) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-aff-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const img = path.join(dir, 'disk.img');
  fs.writeFileSync(img, Buffer.alloc(4 << 20, 1));
  const guest = await launch({
    kernel: app('blkbench'),
    args: ['--solo5:quiet', 'read', '65536', '64'],
    memMB: 32,
    console: 'pipe',
    block: { storage: { path: img } },
  });
  let out = '';
  guest.console?.on('data', (b: Buffer) => (out += b.toString()));
  tt.equal((await guest.exited).status, 0, 'blkbench ran');
  tt.match(out, /bytes=67108864 /, 'and read its 64 MiB');
  const c = guest.counters();
  const moves = c['pump.cpuMoves'];
  tt.ok(Number.isInteger(moves) && moves >= 0, `pump.cpuMoves is a count: ${moves}`);
  tt.ok(moves <= c['pump.kicks'], `each move follows a kick of a sleeping guest (${moves} moves, ${c['pump.kicks']} kicks)`);
});

t.test('options are checked', async (tt) => {
  await tt.rejects(launch({ kernel: app('net'), affinity: 'all' as 'none' }), /affinity: must be 'auto' or 'none'/);
});

const mine = allowedOf(process.pid);
const narrowSkip =
  mine.length < 2
    ? `this process may use only CPU ${mine.join(',')}: nothing to narrow`
    : spawnSync('taskset', ['-V']).status !== 0
      ? 'no taskset (util-linux)'
      : false;

t.test('CLI under taskset: the CPU is chosen inside the narrower mask, never outside it', { skip: narrowSkip }, async (tt) => {
  // Every allowed CPU but the first: the tender must not go back to it.
  const narrow = mine.slice(1);
  const l = await StreamListener.open();
  tt.teardown(() => l.close());
  const child = spawn(
    'taskset',
    [
      '-c',
      narrow.join(','),
      process.execPath,
      sptCli,
      '--mem=32',
      '--affinity=auto',
      `--net:service=unix:${l.path}`,
      app('net'),
      '10.0.0.2',
      '1',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const peer = await l.accept(PEER_MAC);
  // An answered ARP request means the pump runs, and it is started only after the CPU was chosen.
  const pinger = new Pinger(peer, '10.0.0.1');
  const mac = await pinger.resolve('10.0.0.2');
  const tender = child.pid ?? -1;
  const [guestPid] = childrenOf(tender);
  const g = allowedOf(guestPid);
  tt.equal(g.length, 1, `the guest runs on one CPU: ${JSON.stringify(g)}`);
  tt.ok(narrow.includes(g[0]), `CPU ${g[0]} is inside the taskset mask ${JSON.stringify(narrow)}`);
  tt.same(pumpMasks(tender), [g], 'the pump shares it');
  const r = await pinger.ping('10.0.0.2', mac, 1);
  tt.equal(r.received, 1);
  tt.equal(await exited, 0, `the CLI exits 0 ${err}`);
});

t.test('CLI: --affinity=none is accepted, a bad value is one line and exit 1', async (tt) => {
  const r = spawnSync(process.execPath, [sptCli, '--affinity=some', app('net')], { encoding: 'utf8' });
  tt.equal(r.status, 1);
  tt.match(r.stderr.trim(), /^[^\n]*--affinity: 'some' is not auto or none[^\n]*$/);
  const ok = spawnSync(process.execPath, [sptCli, '--affinity=none', '--mem=16', app('hello')], { encoding: 'utf8' });
  tt.equal(ok.status, 0);
  tt.match(ok.stdout, 'SUCCESS');
  tt.match(spawnSync(process.execPath, [sptCli, '--help'], { encoding: 'utf8' }).stderr, '--affinity=none|auto');
});
