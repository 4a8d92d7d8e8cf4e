// hvt-solo5-net-ring.test.ts: the Solo5-ABI hvt bindings on the offered net ring: two interfaces at once, jumbo frames, ring and hypercalls mixed.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { launch, VirtualSwitch, type Guest } from '../lib';
import { formatMac } from '../lib/net/mac';
import { Pinger } from '../lib/net/pinger';
import { kvmUnavailable } from './support/kvm';
import { root } from './support/paths';

/*
 * A switch port is a brokered device, so the tender offers upstream's 0.11
 * net ring and its pump serves it. The bindings (guest/bindings/solo5hvt/
 * s5h_net.c) read and write through the ring while its thread is awake or
 * frames are flowing, by hypercall otherwise, and look ahead through the
 * ring in solo5_yield, keeping a frame for the next read of its device.
 * Whatever path each frame took: every echo comes back intact, in order
 * per device, no handle is reported ready with nothing to read, and the
 * ring did carry reads.
 */
const kernel = (name: string) => path.join(root, 'guest', 'build', 'solo5', `${name}.hvt`);
const skip = kvmUnavailable() ?? (fs.existsSync(kernel('net_2if')) ? undefined : 'the Solo5-ABI hvt guests are not built');

function collect(guest: Guest): () => string {
  let out = '';
  guest.console?.on('data', (b: Buffer) => (out += b.toString()));
  return () => out;
}

t.test('net_2if: two interfaces at once through the ring, each answered intact', { skip }, async (tt) => {
  const swA = new VirtualSwitch();
  const swB = new VirtualSwitch();
  tt.teardown(() => {
    swA.close();
    swB.close();
  });
  const N = 2000;
  const guest = await launch({
    kernel: kernel('net_2if'),
    target: 'hvt',
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
  tt.equal(formatMac(macA), '02:00:00:00:01:02', 'service0 answers ARP');
  tt.equal(formatMac(macB), '02:00:00:00:02:02', 'service1 answers ARP');
  // Different windows, so that a frame read ahead for one device often waits while the other is served.
  const [ra, rb] = await Promise.all([pa.ping('10.0.1.2', macA, N, { window: 32 }), pb.ping('10.0.2.2', macB, N, { window: 1 })]);
  tt.same([ra.received, ra.corrupt], [N, 0], `service0: ${N} replies, intact`);
  tt.same([rb.received, rb.corrupt], [N, 0], `service1: ${N} replies, intact`);
  const exit = await guest.exited;
  tt.equal(exit.status, 0, `exits after N replies on each: ${out().slice(-300)}`);
  tt.match(out(), /^Solo5: +ring @ /m, 'the guest took the ring');
  tt.notMatch(out(), 'spurious', 'solo5_yield never reported a handle with nothing to read');
  const c = guest.counters();
  const ringReads = ['service0', 'service1'].map((d) => c[`${d}.ringRxPackets`] + c[`${d}.ringRxAgain`]);
  tt.ok(ringReads[0] + ringReads[1] > 0, `the ring carried reads (${ringReads.join(', ')})`);
});

t.test('net_mtu on a 9000-byte switch: jumbo echoes through the ring and the hypercalls', { skip }, async (tt) => {
  const sw = new VirtualSwitch({ mtu: 9000 });
  tt.teardown(() => sw.close());
  const N = 200;
  const guest = await launch({
    kernel: kernel('net_mtu'),
    target: 'hvt',
    args: ['10.0.0.2', String(N)],
    memMB: 32,
    console: 'pipe',
    net: { service: { switch: sw } },
  });
  const out = collect(guest);
  const pinger = new Pinger(sw.endpoint(), '10.0.0.1');
  const mac = await pinger.resolve('10.0.0.2');
  // Replies above 2048 bytes go by NET_WRITE (the ring's write buffers are 2048 bytes); reads of any size may take the ring.
  const r = await pinger.ping('10.0.0.2', mac, N, { window: 8, payload: 9000 - 28 });
  tt.same([r.received, r.corrupt], [N, 0], `${N} echoes of 9000-byte IP packets answered intact`);
  const exit = await guest.exited;
  tt.equal(exit.status, 0, 'exit 0');
  tt.match(out(), 'mtu=9000\n', 'the guest sees the switch MTU');
  tt.match(out(), 'SUCCESS', 'the guest finished');
});
