// unprivileged.test.ts: the bundled unikernels run the same as the user nobody: no root, no capability.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { behaviour } from './support/behaviour';
import { root } from './support/paths';
import { shellStatus } from './support/proc';

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** A world-readable copy of what the CLI needs at run time (the checkout may sit in a private home). */
function runtimeCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solo5-nobody-'));
  fs.chmodSync(dir, 0o755);
  for (const p of ['package.json', 'dist', 'build/Release', 'addon/helper/build', 'guest/build']) {
    fs.cpSync(path.join(root, p), path.join(dir, p), { recursive: true });
  }
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  return dir;
}

const nobody = lookupUser('nobody');
const skip =
  process.getuid?.() !== 0
    ? 'the suite already runs unprivileged (not root), so every other test proves this'
    : !nobody
      ? 'no user "nobody" on this host'
      : false;

t.test('bundled unikernels as nobody', { skip }, async (tt) => {
  const dir = runtimeCopy();
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cli = path.join(dir, 'dist', 'bin', 'solo5-spt.js');
  const who = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.getuid()))'], {
    uid: nobody!.uid,
    gid: nobody!.gid,
    encoding: 'utf8',
  });
  tt.equal(who.stdout, String(nobody!.uid), 'the tender really runs as nobody');
  for (const { app: name, spt } of behaviour) {
    const r = spawnSync(process.execPath, [cli, '--mem=32', path.join(dir, 'guest', 'build', `${name}.spt`), ...spt.args], {
      uid: nobody!.uid,
      gid: nobody!.gid,
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    tt.equal(shellStatus(r), spt.status, `${name}: exit ${spt.status} as nobody ${r.stderr.trim()}`);
    for (const m of spt.markers) tt.match(r.stdout, m, `${name}: ${m}`);
  }
});

t.test('block and switch networking as nobody, through the API', { skip }, async (tt) => {
  const dir = runtimeCopy();
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const img = path.join(dir, 'disk.img');
  fs.writeFileSync(img, Buffer.alloc(1 << 20));
  fs.chownSync(img, nobody!.uid, nobody!.gid);
  const script = `
    const { run, launch, VirtualSwitch, Pinger } = require(${JSON.stringify(path.join(dir, 'dist', 'lib', 'index.js'))});
    (async () => {
      const b = await run({ kernel: ${JSON.stringify(path.join(dir, 'guest', 'build', 'blk.spt'))}, memMB: 32, block: { storage: { path: ${JSON.stringify(img)} } }, timeoutMs: 120_000 });
      const sw = new VirtualSwitch();
      const g = await launch({ kernel: ${JSON.stringify(path.join(dir, 'guest', 'build', 'net.spt'))}, args: ['--solo5:quiet', '10.0.0.2', '1000'], memMB: 32, net: { service: { switch: sw } } });
      const p = new Pinger(sw.endpoint(), '10.0.0.1');
      const mac = await p.resolve('10.0.0.2');
      const r = await p.ping('10.0.0.2', mac, 1000, { window: 16 });
      const e = await g.exited;
      sw.close();
      console.log(JSON.stringify({ uid: process.getuid(), blk: b.exit.status, blkOk: b.output.includes('SUCCESS'), received: r.received, net: e.status }));
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], {
    uid: nobody!.uid,
    gid: nobody!.gid,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    encoding: 'utf8',
    timeout: 60000,
  });
  tt.equal(r.status, 0, `the script ran ${r.stderr.trim()}`);
  tt.same(
    JSON.parse(r.stdout.trim() || '{}'),
    { uid: nobody!.uid, blk: 0, blkOk: true, received: 1000, net: 0 },
    'blk and 1000 pings as nobody',
  );
});
