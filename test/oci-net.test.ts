// oci-net.test.ts: a network namespace the test owns gives the unikernel its address; the host pings it.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { app, exists, root } from './support/paths';
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

/** A prestart hook doing what Docker's does: the container's fresh namespace gets eth0 (a veth from the host) with an address. */
const MAKE_ETH0 = `const { execSync } = require('child_process');
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const [veth, host, addr] = process.argv.slice(2);
  const ns = '/proc/' + JSON.parse(input).pid + '/ns/net';
  execSync('ip link add ' + veth + ' type veth peer name eth0 netns ' + ns + ' && ip addr add ' + host + '/24 dev ' + veth + ' && ip link set ' + veth + ' up');
  execSync('nsenter --net=' + ns + ' sh -c "ip addr add ' + addr + '/24 dev eth0 && ip link set eth0 up && ip link set lo up"');
});
`;

for (const abi of ['ring', 'solo5']) {
  t.test(
    `${abi} ABI: a fresh namespace whose eth0 a prestart hook makes (Docker's bridge): wired after the hooks, and nothing left in it after kill -9`,
    { skip: skip ?? false },
    async (t) => {
      const seed = Math.floor(Math.random() * 1e6);
      t.comment(`seed ${seed}`);
      const base = tmpBase(t);
      const stateRoot = path.join(base, 'state');
      const veth = `snh${seed % 100000}`;
      const host = `10.216.${seed % 200}.1`;
      const addr = `10.216.${seed % 200}.2`;
      t.teardown(() => void sh(`ip link del ${veth}`));
      fs.writeFileSync(path.join(base, 'eth0.js'), MAKE_ETH0);
      const hook = {
        path: process.execPath,
        args: ['node', path.join(base, 'eth0.js'), veth, host, addr],
        env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      };
      const b = makeBundle(base, buildNetip(base, abi), [], {
        linux: { namespaces: [{ type: 'pid' }, { type: 'network' }] },
        hooks: { prestart: [hook] },
      });
      const id = `late${seed}`;
      const c = await create(stateRoot, b.dir, id);
      t.equal(c.status, 0, `create (${c.stderr.trim()})`);
      t.teardown(() => void oci(stateRoot, ['delete', '--force', id]));
      const pid = (JSON.parse(oci(stateRoot, ['state', id]).stdout) as { pid: number }).pid;
      // Hold the namespace past the container, to see what it leaves there.
      const holder = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, 'sleep', '600'], { stdio: 'ignore' });
      t.teardown(() => void holder.kill('SIGKILL'));
      const inNs = (cmd: string) => sh(`nsenter --net=/proc/${pid}/ns/net ${cmd}`).stdout;
      t.match(inNs('ip -o link show'), /snoci0/, 'create wired eth0 once the hook had made it');
      t.equal(oci(stateRoot, ['start', id]).status, 0, 'start');
      await c.waitFor(`ip ${addr}`);
      const ping = spawnSync('python3', [path.join(root, 'test', 'support', 'kping.py'), addr, '1'], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      t.match(ping.stdout, /sent=1 received=1/, 'the guest answers at the address the hook gave eth0');
      const held = `/proc/${holder.pid}/ns/net`;
      t.equal(oci(stateRoot, ['kill', id, 'KILL'], true).status, 0, 'kill -9 (through the front door, as engines call it)');
      await c.console;
      t.equal(oci(stateRoot, ['delete', id], true).status, 0, 'delete');
      t.notMatch(sh(`nsenter --net=${held} ip -o link show`).stdout, /snoci/, 'no tap is left in the namespace');
      t.match(sh(`nsenter --net=${held} ip -o link show`).stdout, /eth0/, 'eth0 is still there');
      t.notMatch(sh(`nsenter --net=${held} tc qdisc show dev eth0`).stdout, /ingress/, 'and not redirected');
      t.same(processesWith(stateRoot), [], 'no process is left');
    },
  );
}

t.test(
  'a fresh namespace without a net device: held by the container from create on only where a creation hook may look at it',
  { skip: (!exists(app('hello')) && 'guest/build/hello.spt is not built') || skip || false },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    const fresh = { linux: { namespaces: [{ type: 'pid' }, { type: 'network' }] } };
    const hook = { prestart: [{ path: '/bin/true', args: ['true'] }] };
    for (const [id, config, own] of [
      ['hooked', { ...fresh, hooks: hook }, true],
      ['plain', fresh, false],
    ] as const) {
      const b = makeBundle(base, app('hello'), [], config);
      const c = await create(stateRoot, b.dir, id);
      t.equal(c.status, 0, `${id}: create (${c.stderr.trim()})`);
      t.teardown(() => void oci(stateRoot, ['delete', '--force', id]));
      const pid = (JSON.parse(oci(stateRoot, ['state', id]).stdout) as { pid: number }).pid;
      const ns = fs.readlinkSync(`/proc/${pid}/ns/net`);
      t.equal(
        ns !== fs.readlinkSync('/proc/self/ns/net'),
        own,
        own
          ? 'with a prestart hook (Docker): the guest is in a namespace of its own'
          : 'without one (podman --network=none): prepared here',
      );
      t.equal(oci(stateRoot, ['start', id], true).status, 0, `${id}: start`);
      t.match(await c.console, /SUCCESS/, `${id}: the guest runs`);
      t.equal(oci(stateRoot, ['delete', id], true).status, 0, `${id}: delete`);
    }
  },
);
