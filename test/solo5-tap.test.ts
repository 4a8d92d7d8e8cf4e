// solo5-tap.test.ts: Solo5-ABI guests on a tap inside a namespace this test creates: the tap fd is handed over, and through --net-pcap the socket path.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { root, sptCli } from './support/paths';
import { spawnWatched, waitForText } from './support/proc';
import { tapNamespace, tapSkip } from './support/tapns';

const kping = path.join(root, 'test', 'support', 'kping.py');

for (const dir of ['solo5', 'solo5-v1']) {
  const net = path.join(root, 'guest', 'build', dir, 'net.spt');
  for (const pcap of [false, true]) {
    const what = pcap ? 'the socket path (tap + pcap through the broker)' : 'the tap fd itself';
    t.test(
      `${dir} net over a tap, ${what}: the kernel pings it`,
      { skip: tapSkip || (fs.existsSync(net) ? false : `${net} not built`) },
      async (t) => {
        const ns = `s5t${process.pid}${pcap ? 'p' : 'd'}${dir.length}`;
        const inNs = tapNamespace(t, ns, 'tap0', '10.79.0.1/24');
        const capture = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sn-s5tap-')), 'cap.pcap');
        t.teardown(() => fs.rmSync(path.dirname(capture), { recursive: true, force: true }));
        const argv = inNs([
          process.execPath,
          sptCli,
          '--mem=2',
          '--net:service=tap0',
          ...(pcap ? [`--net-pcap:service=${capture}`] : []),
          net,
          '10.79.0.2',
          '5',
        ]);
        const { child, out: all, err, exited } = spawnWatched(argv);
        // The app prints its device line (with the MTU) once it has acquired the device.
        const out = await waitForText(child.stdout, 'mtu');
        t.match(out, 'mtu 1500', `the guest sees the tap's MTU ${err()}`);
        const pingArgv = inNs(['python3', kping, '10.79.0.2', '5']);
        // Each echo may take kping's default 30 s: a late reply (a loaded machine, an ARP retry) still counts.
        const ping = spawnSync(pingArgv[0], pingArgv.slice(1), { encoding: 'utf8', timeout: 120_000 });
        t.equal(ping.status, 0, `kping ran ${ping.stderr}`);
        const code = await exited;
        // The guest's last line counts its echo and ARP replies, the frames it ignored and the replies refused.
        t.match(ping.stdout, /sent=5 received=5/, `the kernel gets every reply (guest: ${all().trim()} ${err().trim()})`);
        t.equal(code, 0, `the unikernel exits after 5 replies ${err()}`);
        if (pcap) t.ok(fs.statSync(capture).size > 24 + 10 * 16, 'the pcap holds the frames');
      },
    );
  }
}
