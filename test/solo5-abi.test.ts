// solo5-abi.test.ts: Solo5-ABI guests: boot structures byte for byte, and every bundled app with the same results as its ring build.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import * as abi from '../lib/abi';
import { run, VirtualSwitch } from '../lib';
import { Pinger } from '../lib/net/pinger';
import { encodeSolo5BootInfo, guestFdOf, solo5Cmdline, solo5DevEpoll } from '../lib/tender/solo5';
import { behaviour } from './support/behaviour';
import { imageMaker } from './support/images';
import { app, root, sptCli } from './support/paths';

const solo5App = (name: string, dir = 'solo5') => path.join(root, 'guest', 'build', dir, `${name}.spt`);
const image = imageMaker('sn-solo5-abi');

t.test("spt_boot_info is upstream's 40 bytes at the published offsets", async (t) => {
  const b = encodeSolo5BootInfo({ memSize: 2 << 20, kernelEnd: 0x105000, cmdline: 0x11100, epollFd: 3, timerFd: 4 });
  t.equal(b.length, 40);
  t.equal(b.readBigUInt64LE(0), 2n << 20n, 'mem_size @0');
  t.equal(b.readBigUInt64LE(8), 0x105000n, 'kernel_end @8');
  t.equal(b.readBigUInt64LE(16), 0x11100n, 'cmdline @16');
  t.equal(b.readBigUInt64LE(24), 0x11028n, 'mft @24, right after the boot info');
  t.equal(b.readInt32LE(32), 3, 'epollfd @32');
  t.equal(b.readInt32LE(36), 4, 'timerfd @36');
  t.equal(abi.SN_SOLO5_MFT_ADDR, 0x11028);
  t.equal(abi.SN_SOLO5_INTERNAL_TIMERFD, 0xfffffffe);
});

t.test('device fds: from SN_FD_DEV0 in manifest order, net fds join the epoll with their index', async (t) => {
  t.same(
    solo5DevEpoll([
      { index: 1, fd: 40, kind: 'block' },
      { index: 2, fd: 41, kind: 'net' },
    ]),
    [0, 2],
  );
  t.equal(guestFdOf(0), abi.SN_FD_DEV0);
  t.equal(guestFdOf(2), abi.SN_FD_DEV0 + 2);
});

t.test('the command line: up to 8191 bytes, one more is refused in one line', async (t) => {
  t.equal(solo5Cmdline('x'.repeat(8191)).length, 8192);
  t.throws(() => solo5Cmdline('x'.repeat(8192)), { code: 'EUSAGE', message: 'command line is 8192 bytes, the maximum is 8191' });
});

t.test('sn_solo5.h and lib/abi.ts agree', { skip: spawnSync('gcc', ['--version']).status === 0 ? false : 'no gcc' }, async (t) => {
  const macros = execFileSync('gcc', ['-dM', '-E', '-I', path.join(root, 'include'), '-x', 'c', '-'], {
    input: '#include "sn_solo5.h"\n',
    encoding: 'utf8',
  })
    .split('\n')
    .map((l) => /^#define (SN_SOLO5_[A-Z0-9_]+) /.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && n !== 'SN_SOLO5_H');
  const ts = abi as unknown as Record<string, unknown>;
  t.same(
    macros.filter((n) => !(n in ts)),
    [],
    'every SN_SOLO5_* macro has a twin in lib/abi.ts',
  );
});

/** Console output without the bindings' own lines, which differ between the two builds. */
const appOutput = (s: string) =>
  s
    .split('\n')
    .filter((l) => !l.startsWith('Solo5: '))
    .join('\n');

for (const dir of ['solo5', 'solo5-v1']) {
  const built = behaviour.filter((b) => fs.existsSync(solo5App(b.app, dir)) && fs.existsSync(app(b.app)));
  const skip = built.length === 0 ? `no guest/build/${dir}/*.spt built (solo5-build --abi=${dir})` : false;

  t.test(`every app built for ${dir} behaves as its ring build (also as nobody)`, { skip }, async (t) => {
    for (const { app: name, spt } of built) {
      const ring = await run({ kernel: app(name), args: spt.args, memMB: 32, timeoutMs: 30_000 });
      const solo5 = await run({ kernel: solo5App(name, dir), args: spt.args, memMB: 32, timeoutMs: 30_000 });
      t.equal(solo5.exit.status, ring.exit.status, `${name}: same exit status (${ring.exit.status})`);
      t.equal(appOutput(solo5.output), appOutput(ring.output), `${name}: same output`);
    }
  });

  const blk = solo5App('blk', dir);
  t.test(`${dir} blk: same image digest as the ring build`, { skip: fs.existsSync(blk) ? false : `${blk} not built` }, async (t) => {
    const digests: string[] = [];
    for (const kernel of [app('blk'), blk]) {
      const disk = image(`${path.basename(path.dirname(kernel))}-blk`, 4 << 20);
      const r = await run({ kernel, memMB: 32, block: { storage: { path: disk } }, timeoutMs: 60_000 });
      t.equal(r.exit.status, 0, `${kernel}: exit 0`);
      digests.push(createHash('sha256').update(fs.readFileSync(disk)).digest('hex'));
    }
    t.equal(digests[1], digests[0], 'identical image contents');
  });

  const net = solo5App('net', dir);
  t.test(`${dir} net through the switch: pings answered`, { skip: fs.existsSync(net) ? false : `${net} not built` }, async (t) => {
    const sw = new VirtualSwitch();
    t.teardown(() => sw.close());
    const N = 200;
    const { launch } = await import('../lib/index.js');
    const guest = await launch({
      kernel: net,
      args: ['10.0.0.2', String(N)],
      memMB: 8,
      console: 'pipe',
      net: { service: { switch: sw, mac: '02:00:00:00:00:02' } },
    });
    const pinger = new Pinger(sw.endpoint('02:00:00:00:00:01'), '10.0.0.1');
    const mac = await pinger.resolve('10.0.0.2');
    const r = await pinger.ping('10.0.0.2', mac, N, { window: 8 });
    t.same([r.received, r.corrupt], [N, 0], `${N} replies, intact`);
    t.equal((await guest.exited).status, 0);
  });

  t.test(
    `${dir}: the CLI runs it, hvt refuses it`,
    { skip: fs.existsSync(solo5App('hello', dir)) ? false : 'hello not built' },
    async (t) => {
      const r = spawnSync(sptCli, ['--mem=2', solo5App('hello', dir)], { encoding: 'utf8', timeout: 120_000 });
      t.same([r.status, /SUCCESS/.test(r.stdout), r.stderr], [0, true, '']);
      const hvt = spawnSync(path.join(path.dirname(sptCli), 'solo5-hvt.js'), [solo5App('hello', dir)], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      t.equal(hvt.status, 1);
      t.match(
        hvt.stderr,
        /^solo5-hvt: [^\n]+: Executable is not for the solo5-hvt target\nsolo5-hvt: [^\n]+ \(run it with solo5-spt\)\n$/,
        "upstream's words, then the reason",
      );
    },
  );
}
