// oci-net.test.ts: a network namespace the test owns gives the unikernel its address; the host pings it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { root } from './support/paths';
import { create, makeBundle, needRoot, oci, processesWith, tmpBase } from './support/oci';
import { buildNetip, makeNamespace, sh } from './support/oci-net';

const skip = needRoot('ip', 'tc', 'nsenter', 'python3');

for (const abi of ['ring', 'solo5']) {
  t.test(
    `${abi} ABI: the container's interface reaches the guest, which answers pings at the container's address`,
    { skip: skip ?? false },
    async (t) => {
      const seed = (Math.floor(Math.random() * 1e6) * 2 + (abi === 'ring' ? 0 : 1)) % 1e6;
      t.comment(`seed ${seed}`);
      const base = tmpBase(t);
      const stateRoot = path.join(base, 'state');
      const ns = makeNamespace(t, seed);
      const b = makeBundle(base, buildNetip(base, abi), [], {
        linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: `/run/netns/${ns.name}` }] },
      });
      const c = await create(stateRoot, b.dir, `net${seed}`);
      t.equal(c.status, 0, `create (${c.stderr.trim()})`);
      t.teardown(() => void oci(stateRoot, ['delete', '--force', `net${seed}`]));
      t.match(sh(`ip -n ${ns.name} link show`).stdout, /snoci0/, 'create made the tap in the namespace');
      const pid = (JSON.parse(oci(stateRoot, ['state', `net${seed}`]).stdout) as { pid: number }).pid;
      t.equal(
        fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'solo5-guest\0',
        abi === 'solo5',
        abi === 'solo5'
          ? 'a Solo5-ABI guest (its tap fd its own) is the container process'
          : 'a ring guest with a net device keeps the monitor',
      );
      t.equal(oci(stateRoot, ['start', `net${seed}`]).status, 0, 'start');
      await c.waitFor(`ip ${ns.addr}`);
      const ping = spawnSync('python3', [path.join(root, 'test', 'support', 'kping.py'), ns.addr, '3'], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      t.match(ping.stdout, /sent=3 received=3/, `the host pings the unikernel (${ping.stdout.split('\n')[0]})`);
      t.equal(oci(stateRoot, ['kill', `net${seed}`, 'KILL']).status, 0, 'kill');
      await c.console;
      // As podman runs it: through the front door, with no PATH (tc is in /usr/sbin, outside execvp's default).
      t.equal(oci(stateRoot, ['delete', `net${seed}`], true, {}).status, 0, 'delete without PATH');
      const clean = (what: string) => {
        t.notMatch(sh(`ip -n ${ns.name} link show`).stdout, /snoci0/, `${what}: the tap is gone`);
        t.notMatch(sh(`tc -n ${ns.name} qdisc show dev eth0`).stdout, /ingress/, `${what}: the redirect is gone`);
      };
      clean('delete');
      if (abi === 'solo5') {
        // What a container SIGKILLed with its runtime leaves: eth0 redirected to a tap nobody holds.
        const stale = sh(
          `ip -n ${ns.name} tuntap add dev snoci0 mode tap && ip -n ${ns.name} link set snoci0 up && tc -n ${ns.name} qdisc add dev eth0 ingress && ` +
            `tc -n ${ns.name} filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev snoci0`,
        );
        t.equal(stale.status, 0, `stale redirect made (${stale.stderr.trim()})`);
        // The namespace outlives the container (a pod's): the next one in it must work, and rm -f of it clean up.
        const c2 = await create(stateRoot, b.dir, `net${seed}b`);
        t.equal(c2.status, 0, `a second container in the same namespace (${c2.stderr.trim()})`);
        t.equal(oci(stateRoot, ['start', `net${seed}b`]).status, 0, 'start the second');
        await c2.waitFor(`ip ${ns.addr}`);
        const ping2 = spawnSync('python3', [path.join(root, 'test', 'support', 'kping.py'), ns.addr, '1'], {
          encoding: 'utf8',
          timeout: 120_000,
        });
        t.match(ping2.stdout, /sent=1 received=1/, 'the second container answers too');
        t.equal(oci(stateRoot, ['delete', '--force', `net${seed}b`], true, {}).status, 0, 'delete --force of a running one (rm -f)');
        await c2.console;
        clean('delete --force');
      }
      t.same(processesWith(stateRoot), [], 'no process is left');
      t.same(fs.readdirSync(stateRoot), []);
    },
  );
}
