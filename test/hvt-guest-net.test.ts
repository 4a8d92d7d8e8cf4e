// hvt-guest-net.test.ts: the Solo5-ABI hvt net app on a tap answers the kernel's pings, through upstream's net ring (ABI 2) and the NET_* hypercalls (ABI 1).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { kvmUnavailable } from './support/kvm';
import { root } from './support/paths';
import { spawnWatched, waitForText } from './support/proc';
import { tapNamespace, tapSkip } from './support/tapns';

const kping = path.join(root, 'test', 'support', 'kping.py');
const hvtCli = path.join(root, 'dist', 'bin', 'solo5-hvt.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-hvt-guest-net-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

/*
 * solo5-hvt offers the ring to a guest with a net device when it keeps its
 * tender (a pcap makes the tap a brokered device); the ABI 2 bindings take
 * it (the banner's "ring @" line), the ABI 1 ones never look at the 0.11
 * boot info fields and use the hypercalls. A tap alone: the CLI becomes the
 * guest (docs/architecture.md, "Process model") and offers no ring, whose
 * pump is the tender's, so ABI 2 uses the hypercalls too.
 */
const cases = [
  { dir: 'solo5', path: 'the net ring', ring: true, pcap: true },
  { dir: 'solo5-v1', path: 'the NET_* hypercalls', ring: false, pcap: true },
  { dir: 'solo5', path: 'the NET_* hypercalls, in place', ring: false, pcap: false },
];

for (const c of cases) {
  const net = path.join(root, 'guest', 'build', c.dir, 'net.hvt');
  t.test(
    `${c.dir}/net.hvt over a tap, through ${c.path}: the kernel pings it`,
    { skip: tapSkip || kvmUnavailable() || (fs.existsSync(net) ? false : `${net} not built`) },
    async (tt) => {
      const ns = `s5h${process.pid}${c.dir.length}${c.pcap ? 'p' : ''}`;
      const inNs = tapNamespace(tt, ns, 'tap0', '10.79.7.1/24');
      const pcap = c.pcap ? [`--net-pcap:service=${path.join(tmp, `${c.dir}.pcap`)}`] : [];
      const argv = inNs([process.execPath, hvtCli, '--mem=16', '--net:service=tap0', ...pcap, net, '10.79.7.2', '5']);
      const { child, out: all, err, exited } = spawnWatched(argv);
      const out = await waitForText(child.stdout, 'mtu');
      tt.match(out, 'mtu 1500', `the guest sees the tap's MTU ${err()}`);
      if (c.ring)
        tt.match(out, /^Solo5: +ring @ \(0x01000000 - 0x0100c07f\), 256 write buffers$/m, 'the ring is taken, at the top of memory');
      else tt.notMatch(out, 'ring @', 'no ring');
      const pingArgv = inNs(['python3', kping, '10.79.7.2', '5']);
      const ping = spawnSync(pingArgv[0], pingArgv.slice(1), { encoding: 'utf8', timeout: 120_000 });
      tt.equal(ping.status, 0, `kping ran ${ping.stderr}`);
      const code = await exited;
      tt.match(ping.stdout, /sent=5 received=5/, `the kernel gets every reply (guest: ${all().trim()} ${err().trim()})`);
      tt.equal(code, 0, `the unikernel exits after 5 replies ${err()}`);
    },
  );
}
