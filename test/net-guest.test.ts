// net-guest.test.ts: the guest side of net devices through the switch: two interfaces at once, a 9000-byte MTU.
import fs from 'node:fs';
import t from 'tap';
import { launch, VirtualSwitch, type Guest } from '../lib';
import { formatMac } from '../lib/net/mac';
import { Pinger } from '../lib/net/pinger';
import { app } from './support/paths';

function collect(guest: Guest): () => string {
  let out = '';
  guest.console?.on('data', (b: Buffer) => (out += b.toString()));
  return () => out;
}

t.test('net_2if answers on two interfaces at once, each with its own address', async (tt) => {
  const swA = new VirtualSwitch();
  const swB = new VirtualSwitch();
  tt.teardown(() => {
    swA.close();
    swB.close();
  });
  const N = 5000;
  const guest = await launch({
    kernel: app('net_2if'),
    args: ['10.0.1.2', '10.0.2.2', String(N)],
    memMB: 32,
    console: 'pipe',
    net: {
      service0: { switch: swA, mac: '02:00:00:00:01:02' },
      service1: { switch: swB, mac: '02:00:00:00:02:02' },
    },
  });
  const out = collect(guest);
  const pa = new Pinger(swA.endpoint('02:00:00:00:01:01'), '10.0.1.1');
  const pb = new Pinger(swB.endpoint('02:00:00:00:02:01'), '10.0.2.1');
  const [macA, macB] = await Promise.all([pa.resolve('10.0.1.2'), pb.resolve('10.0.2.2')]);
  tt.equal(formatMac(macA), '02:00:00:00:01:02', 'service0 answers ARP for IP0 with its MAC');
  tt.equal(formatMac(macB), '02:00:00:00:02:02', 'service1 answers ARP for IP1 with its MAC');
  await tt.rejects(pa.resolve('10.0.2.2', 300), /no ARP reply/, 'service0 does not answer for IP1');

  // Both at once, with different windows, so the ready set often holds one handle and sometimes both.
  const [ra, rb] = await Promise.all([pa.ping('10.0.1.2', macA, N, { window: 32 }), pb.ping('10.0.2.2', macB, N, { window: 1 })]);
  tt.same([ra.received, ra.corrupt], [N, 0], `service0: ${N} replies, intact`);
  tt.same([rb.received, rb.corrupt], [N, 0], `service1: ${N} replies, intact`);
  const exit = await guest.exited;
  tt.equal(exit.status, 0, 'exits after N replies on each');
  tt.match(out(), `service0: ${N} echo replies`);
  tt.match(out(), `service1: ${N} echo replies`);
  tt.notMatch(out(), 'spurious', 'solo5_yield never reported a handle with nothing to read');
});

t.test('net_mtu on a 9000-byte switch: reports the MTU, refuses one byte more, echoes jumbo frames', async (tt) => {
  for (const mtu of [1500, 9000]) {
    const sw = new VirtualSwitch({ mtu });
    tt.teardown(() => sw.close());
    const N = 200;
    const guest = await launch({
      kernel: app('net_mtu'),
      args: ['10.0.0.2', String(N)],
      memMB: 32,
      console: 'pipe',
      net: { service: { switch: sw } },
    });
    const out = collect(guest);
    const pinger = new Pinger(sw.endpoint(), '10.0.0.1');
    const mac = await pinger.resolve('10.0.0.2');
    // The largest echo that fits: IPv4 header 20 and ICMP header 8 inside the MTU.
    const r = await pinger.ping('10.0.0.2', mac, N, { window: 8, payload: mtu - 28 });
    tt.same([r.received, r.corrupt], [N, 0], `mtu ${mtu}: ${N} echoes of ${mtu}-byte IP packets answered intact`);
    const exit = await guest.exited;
    tt.equal(exit.status, 0, `mtu ${mtu}: exit 0`);
    tt.match(out(), `mtu=${mtu}\n`, 'the guest sees the switch MTU');
    tt.match(out(), 'SUCCESS');
  }
});

/** CPU time of a process in clock ticks (utime + stime from /proc/PID/stat). */
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** How often a process has blocked in the kernel (voluntary context switches). */
function blocks(pid: number): number {
  return Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

t.test('an idle guest sleeps in the kernel until its yield deadline; nobody rings it', async (tt) => {
  const sw = new VirtualSwitch();
  tt.teardown(() => sw.close());
  // net serves forever; with nothing on the wire it wakes once a second to yield again.
  const guest = await launch({ kernel: app('net'), args: ['10.0.0.2'], memMB: 32, console: 'pipe', net: { service: { switch: sw } } });
  // Its start-up is not idle time: measure only from its device line on, however late that comes.
  let early = '';
  await new Promise<void>((resolve) => {
    guest.console?.on('data', (b: Buffer) => (early += b.toString()).includes('mtu') && resolve());
    void guest.exited.then(() => resolve());
  });
  tt.match(early, 'mtu', 'the guest has acquired its device');
  const ticks0 = cpuTicks(guest.pid);
  const kicks0 = guest.counters()['pump.kicks'];
  // The window is the guest's own: until it has slept in the kernel and woken at its
  // deadline twice more (a guest that polls instead never blocks, and times out here).
  const blocks0 = blocks(guest.pid);
  while (blocks(guest.pid) < blocks0 + 2) await new Promise((r) => setTimeout(r, 50));
  const ticks = cpuTicks(guest.pid) - ticks0;
  const c = guest.counters();
  guest.kill();
  await guest.exited;
  // A tick is 10 ms; two yields cost microseconds, however busy the machine is.
  tt.ok(ticks <= 5, `the guest used ${ticks} clock ticks of CPU over two yields`);
  tt.equal(c['pump.kicks'] - kicks0, 0, 'the tender never rang it');
  tt.ok(c['pump.sleeps'] >= 1, `the tender's pump sleeps too (${c['pump.sleeps']} times)`);
});
