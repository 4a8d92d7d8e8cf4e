// net-switch.test.ts: unikernels on the tender's userspace switch, driven from TypeScript: ARP, ICMP, two guests, pcap.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { launch, run, VirtualSwitch } from '../lib';
import { Pinger } from '../lib/net/pinger';
import { formatMac } from '../lib/net/mac';
import { app } from './support/paths';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-net-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

t.test('ARP and 100,000 ICMP echo requests through the switch, no loss', async (tt) => {
  const sw = new VirtualSwitch();
  tt.teardown(() => sw.close());
  const N = 100_000;
  const guest = await launch({
    kernel: app('net'),
    args: ['--solo5:quiet', '10.0.0.2', String(N)],
    memMB: 32,
    console: 'pipe',
    net: { service: { switch: sw, mac: '02:00:00:00:00:02' } },
  });
  let out = '';
  guest.console?.on('data', (b: Buffer) => (out += b.toString()));
  const ep = sw.endpoint('02:00:00:00:00:01');
  const pinger = new Pinger(ep, '10.0.0.1');
  const mac = await pinger.resolve('10.0.0.2');
  tt.equal(formatMac(mac), '02:00:00:00:00:02', 'ARP answers with the MAC given by the tender');
  const r = await pinger.ping('10.0.0.2', mac, N, { window: 64 });
  tt.equal(r.sent, N);
  tt.equal(r.received, N, 'every request answered');
  tt.equal(r.corrupt, 0, 'every reply intact');
  const exit = await guest.exited;
  tt.equal(exit.status, 0, 'the guest exits after N replies');
  tt.match(out, 'SUCCESS');
  const c = guest.counters();
  // N echo replies and one ARP reply left the guest; N requests and one ARP request reached it.
  tt.match(
    c,
    { 'service.txPackets': N + 1, 'service.rxPackets': N + 1, 'service.txErrors': 0 },
    `the device counters add up: ${JSON.stringify(c)}`,
  );
});

t.test('two unikernels ping each other through the switch', async (tt) => {
  const sw = new VirtualSwitch();
  tt.teardown(() => sw.close());
  const responder = await launch({
    kernel: app('net'),
    args: ['--solo5:quiet', '10.0.0.2', '100'],
    memMB: 32,
    console: 'pipe',
    net: { service: { switch: sw } },
  });
  const pinger = await run({
    kernel: app('ping'),
    args: ['--solo5:quiet', '10.0.0.3', '10.0.0.2', '100'],
    memMB: 32,
    net: { service: { switch: sw } },
    timeoutMs: 60000,
  });
  tt.equal(pinger.exit.status, 0, 'the pinger got every reply');
  tt.match(pinger.output, 'received=100 of 100');
  const r = await responder.exited;
  tt.equal(r.status, 0, 'the responder answered 100 and exited');
});

t.test('packet capture of a net device', async (tt) => {
  const sw = new VirtualSwitch();
  tt.teardown(() => sw.close());
  const pcap = path.join(tmp, 'service.pcap');
  const guest = await launch({
    kernel: app('net'),
    args: ['--solo5:quiet', '10.0.0.2', '10'],
    memMB: 32,
    net: { service: { switch: sw, pcap } },
  });
  const pinger = new Pinger(sw.endpoint(), '10.0.0.1');
  const mac = await pinger.resolve('10.0.0.2');
  const r = await pinger.ping('10.0.0.2', mac, 10);
  tt.equal(r.received, 10);
  tt.equal((await guest.exited).status, 0);
  const buf = fs.readFileSync(pcap);
  tt.equal(buf.readUInt32LE(0), 0xa1b2c3d4, 'classic pcap magic');
  tt.equal(buf.readUInt32LE(20), 1, 'LINKTYPE_ETHERNET');
  let records = 0;
  for (let off = 24; off + 16 <= buf.length; records++) off += 16 + buf.readUInt32LE(off + 8);
  // At least one ARP request and reply, 10 echo requests and 10 replies.
  tt.ok(records >= 22, `${records} records in the capture`);
});
