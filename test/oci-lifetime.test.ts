// oci-lifetime.test.ts: what docs/oci.md says about lifetimes: a monitor killed with SIGKILL takes its guest with it.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { kvmUnavailable } from './support/kvm';
import { create, makeBundle, oci, tmpBase } from './support/oci';
import { app, exists } from './support/paths';
import { isGone, startTime, waitGone } from './support/proc';

const sleep = app('sleep', 'hvt');

t.test(
  'a monitor killed with SIGKILL (not through solo5-oci kill) takes its running guest with it',
  { skip: kvmUnavailable() ?? (!exists(sleep) && 'guest/build/sleep.hvt is not built') },
  async (t) => {
    const base = tmpBase(t);
    const stateRoot = path.join(base, 'state');
    // An hvt guest always keeps a monitor (docs/oci.md).
    const b = makeBundle(base, sleep, ['600000']);
    const c = await create(stateRoot, b.dir, 'life');
    t.equal(c.status, 0, `create succeeds (${c.stderr.trim()})`);
    const monitor = (JSON.parse(oci(stateRoot, ['state', 'life']).stdout) as { pid: number }).pid;
    t.match(fs.readFileSync(`/proc/${monitor}/cmdline`, 'utf8'), /monitor-main/, 'the container process is the monitor');
    t.equal(oci(stateRoot, ['start', 'life']).status, 0, 'start succeeds');
    await c.waitFor('READY');
    const { guestPid } = JSON.parse(fs.readFileSync(path.join(stateRoot, 'life', 'started.json'), 'utf8')) as { guestPid: number };
    const guestStart = startTime(guestPid);
    t.ok(guestStart !== undefined && !isGone(guestPid, guestStart), 'the guest runs');
    const monitorStart = startTime(monitor)!;
    process.kill(monitor, 'SIGKILL');
    t.ok(await waitGone(monitor, monitorStart), 'the monitor is gone');
    t.ok(await waitGone(guestPid, guestStart!), 'and so is its guest');
    t.equal(oci(stateRoot, ['delete', '--force', 'life']).status, 0, 'delete cleans up');
  },
);
