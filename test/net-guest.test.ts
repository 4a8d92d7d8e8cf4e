// net-guest.test.ts: the guest side of net devices through the switch: two interfaces at once, a 9000-byte MTU; ring-ABI spt and Solo5-ABI hvt guests.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { launch, VirtualSwitch, type Guest } from '../lib';
import * as abi from '../lib/abi';
import { formatMac } from '../lib/net/mac';
import { arpRequest, parseArp, parseIpv4 } from '../lib/net/packets';
import { Pinger } from '../lib/net/pinger';
import { kvmUnavailable } from './support/kvm';
import { app, root } from './support/paths';
import { until } from './support/ring-guest';

/*
 * Each app as a ring-ABI spt guest and as a Solo5-ABI hvt guest. On hvt a
 * switch port is a brokered device, so the tender offers upstream's 0.11
 * net ring and its pump serves it; the bindings (guest/bindings/solo5hvt/
 * s5h_net.c) read and write through the ring while its thread is awake or
 * frames flow and by hypercall otherwise, and look ahead through the ring
 * in solo5_yield, keeping a frame for the next read of its device. Whatever
 * path each frame takes, the same answers must come back.
 */
const solo5Hvt = (name: string) => path.join(root, 'guest', 'build', 'solo5', `${name}.hvt`);
const builds = (name: string) => [
  { what: 'ring ABI, spt', kernel: app(name), target: 'spt' as const, skip: undefined },
  {
    what: 'Solo5 ABI, hvt, net ring offered',
    kernel: solo5Hvt(name),
    target: 'hvt' as const,
    skip: kvmUnavailable() ?? (fs.existsSync(solo5Hvt(name)) ? undefined : `${solo5Hvt(name)} is not built`),
  },
];

function collect(guest: Guest): () => string {
  let out = '';
  guest.console?.on('data', (b: Buffer) => (out += b.toString()));
  return () => out;
}

for (const b of builds('net_2if')) {
  t.test(`net_2if (${b.what}) answers on two interfaces at once, each with its own address`, { skip: b.skip }, async (tt) => {
    const swA = new VirtualSwitch();
    const swB = new VirtualSwitch();
    tt.teardown(() => {
      swA.close();
      swB.close();
    });
    const N = 5000;
    const guest = await launch({
      kernel: b.kernel,
      target: b.target,
      args: ['10.0.1.2', '10.0.2.2', String(N)],
      memMB: 32,
      console: 'pipe',
      net: {
        service0: { switch: swA, mac: '02:00:00:00:01:02' },
        service1: { switch: swB, mac: '02:00:00:00:02:02' },
      },
    });
    const out = collect(guest);
    const epA = swA.endpoint('02:00:00:00:01:01');
    const pa = new Pinger(epA, '10.0.1.1');
    const pb = new Pinger(swB.endpoint('02:00:00:00:02:01'), '10.0.2.1');
    const [macA, macB] = await Promise.all([pa.resolve('10.0.1.2'), pb.resolve('10.0.2.2')]);
    tt.equal(formatMac(macA), '02:00:00:00:01:02', 'service0 answers ARP for IP0 with its MAC');
    tt.equal(formatMac(macB), '02:00:00:00:02:02', 'service1 answers ARP for IP1 with its MAC');
    // service0 must not answer for IP1. Ask it, then ask for IP0 again: the guest reads its
    // ring in order, so once that reply is here the first request was read and passed over.
    const answeredForIp1: Buffer[] = [];
    const onArp = (f: Buffer) => {
      const a = parseArp(f);
      if (a?.op === 2 && a.senderIp.equals(parseIpv4('10.0.2.2'))) answeredForIp1.push(f);
    };
    epA.on('frame', onArp);
    epA.send(arpRequest(epA.mac, parseIpv4('10.0.1.1'), parseIpv4('10.0.2.2')));
    await pa.resolve('10.0.1.2');
    epA.off('frame', onArp);
    tt.equal(answeredForIp1.length, 0, 'service0 does not answer for IP1 (the next request was answered)');

    // Both at once, with different windows, so the ready set often holds one handle and sometimes both.
    const [ra, rb] = await Promise.all([pa.ping('10.0.1.2', macA, N, { window: 32 }), pb.ping('10.0.2.2', macB, N, { window: 1 })]);
    tt.same([ra.received, ra.corrupt], [N, 0], `service0: ${N} replies, intact`);
    tt.same([rb.received, rb.corrupt], [N, 0], `service1: ${N} replies, intact`);
    const exit = await guest.exited;
    tt.equal(exit.status, 0, 'exits after N replies on each');
    tt.match(
      out(),
      new RegExp(`service0: ${N} echo replies, \\d+ ARP replies, [1-9]\\d* frames ignored`),
      'service0 passed over the request for IP1',
    );
    tt.match(out(), `service1: ${N} echo replies`);
    tt.notMatch(out(), 'spurious', 'solo5_yield never reported a handle with nothing to read');
    if (b.target === 'hvt') {
      tt.match(out(), /^Solo5: +ring @ /m, 'the guest took the ring');
      const c = guest.counters();
      const reads = ['service0', 'service1'].map((d) => c[`${d}.ringRxPackets`] + c[`${d}.ringRxAgain`]);
      tt.ok(reads[0] + reads[1] > 0, `the ring carried reads (${reads.join(', ')})`);
    }
  });
}

for (const b of builds('net_mtu')) {
  t.test(
    `net_mtu (${b.what}) on a 9000-byte switch: reports the MTU, refuses one byte more, echoes jumbo frames`,
    { skip: b.skip },
    async (tt) => {
      for (const mtu of [1500, 9000]) {
        const sw = new VirtualSwitch({ mtu });
        tt.teardown(() => sw.close());
        const N = 200;
        const guest = await launch({
          kernel: b.kernel,
          target: b.target,
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
    },
  );
}

/**
 * The timeout in ns the guest gave the kernel, while it is blocked in its wait
 * (epoll_pwait2 on SN_FD_WAIT, or epoll_pwait before Linux 5.11); undefined
 * while it is anywhere else. /proc/PID/syscall names the call and its
 * arguments; the timespec it points at is read from the guest's memory.
 */
function sleepingFor(pid: number): bigint | undefined {
  const call = fs.readFileSync(`/proc/${pid}/syscall`, 'utf8').trim().split(' ');
  if (Number(call[1]) !== abi.SN_FD_WAIT) return undefined;
  if (call[0] === '281') return BigInt.asIntN(32, BigInt(call[4])) * 1_000_000n;
  if (call[0] !== '441' || BigInt(call[4]) === 0n) return undefined;
  const ts = Buffer.alloc(16);
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r');
  try {
    fs.readSync(fd, ts, 0, ts.length, Number(BigInt(call[4])));
  } finally {
    fs.closeSync(fd);
  }
  return ts.readBigInt64LE(0) * 1_000_000_000n + ts.readBigInt64LE(8);
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
  const kicks0 = guest.counters()['pump.kicks'];
  // Events, not a CPU budget: the guest is seen asleep in its wait, then, after it has
  // blocked twice more (woken at its deadline, back to sleep), asleep there again. A
  // guest that polls or spins is never in that wait, and the hang guard ends the test.
  const asked: bigint[] = [];
  const asleep = () => {
    const ns = sleepingFor(guest.pid);
    if (ns !== undefined) asked.push(ns);
    return ns !== undefined;
  };
  await until(asleep, 'the guest asleep in its wait');
  const blocks0 = blocks(guest.pid);
  await until(() => blocks(guest.pid) >= blocks0 + 2 && asleep(), 'the guest to wake at its deadline and sleep again, twice');
  const c = guest.counters();
  guest.kill();
  await guest.exited;
  const first = asked[0];
  const last = asked[asked.length - 1];
  // net yields for one second: each sleep is for what is left of it, never 0 (a poll) nor past it.
  for (const [which, ns] of [
    ['first', first],
    ['last', last],
  ] as const)
    tt.ok(ns > 0n && ns <= 1_000_000_000n, `the ${which} sleep seen was the rest of a 1 s yield deadline (${ns} ns)`);
  tt.equal(c['pump.kicks'] - kicks0, 0, 'the tender never rang it');
  tt.ok(c['pump.sleeps'] >= 1, `the tender's pump sleeps too (${c['pump.sleeps']} times)`);
});
