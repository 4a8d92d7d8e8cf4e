// hvt-solo5-apps.test.ts: the bundled applications built for upstream Solo5's hvt ABI 1 and 2, end to end through solo5-hvt and launch().
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { launch } from '../lib';
import { Pinger } from '../lib/net/pinger';
import { kvmUnavailable } from './support/kvm';
import { root } from './support/paths';
import { StreamListener } from './support/stream-peer';

const hvtCli = path.join(root, 'dist', 'bin', 'solo5-hvt.js');
const ABIS = ['solo5', 'solo5-v1'] as const;
const solo5App = (abi: string, name: string) => path.join(root, 'guest', 'build', abi, `${name}.hvt`);
const built = fs.existsSync(solo5App('solo5', 'hello')) && fs.existsSync(solo5App('solo5-v1', 'hello'));
const skip = kvmUnavailable() ?? (built ? false : 'the Solo5-ABI hvt builds are missing (npm run build:guest)');
const PEER_MAC = Buffer.from([2, 0, 0, 0, 0x5e, 2]);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-hvt-apps-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

function hvt(args: string[]) {
  return spawnSync(process.execPath, [hvtCli, ...args], { encoding: 'utf8', timeout: 120_000 });
}

/* What upstream's hvt test cases (tests/tests.bats) want of each, at upstream's --mem=4096. */
const cases: Array<[string, number, RegExp, string[]?]> = [
  ['hello', 0, /SUCCESS/],
  ['globals', 0, /SUCCESS/],
  ['tls', 0, /SUCCESS/],
  ['time', 0, /SUCCESS/],
  ['fpu', 0, /SUCCESS/],
  ['exitcode', 2, /exit with status 2/],
  ['abort', 255, /ABORT/],
  ['exception', 255, /ABORT/],
  ['zeropage', 255, /ABORT/],
  ['notls', 255, /ABORT/],
  ['ssp', 255, /ABORT/],
  ['xnow', 1, /solo5-hvt: KVM: host\/guest translation fault: rip=0x[0-9a-f]+\n$/],
];

t.test("upstream's hvt test cases, ABI 2 and 1", { skip }, async (t) => {
  for (const abi of ABIS) {
    for (const [name, status, output] of cases) {
      const r = hvt(['--mem=4096', solo5App(abi, name)]);
      t.equal(r.status, status, `${abi}/${name}: status ${status}`);
      t.match(r.stdout + r.stderr, output, `${abi}/${name}: ${String(output)}`);
    }
    const quiet = hvt(['--mem=4096', '--', solo5App(abi, 'quiet'), '--solo5:quiet']);
    t.equal(quiet.status, 0, `${abi}/quiet`);
    t.notMatch(quiet.stdout + quiet.stderr, /Solo5:/, `${abi}/quiet: nothing with Solo5: on the console`);
  }
});

t.test('blk with 512- and 4096-byte sectors; a misaligned image refused', { skip }, async (t) => {
  for (const abi of ABIS) {
    for (const sector of [512, 4096]) {
      const img = path.join(tmp, `${abi}-${sector}.img`);
      fs.writeFileSync(img, Buffer.alloc(sector * 64));
      const r = hvt(['--mem=16', `--block:storage=${img}`, `--block-sector-size:storage=${sector}`, solo5App(abi, 'blk')]);
      t.equal(r.status, 0, `${abi}, ${sector}-byte sectors: ${r.stderr.trim()}`);
      t.match(r.stdout, `blk: capacity ${sector * 64}, block size ${sector}`);
    }
  }
  const odd = path.join(tmp, 'odd.img');
  fs.writeFileSync(odd, Buffer.alloc(6144));
  const r = hvt(['--mem=16', `--block:storage=${odd}`, '--block-sector-size:storage=4096', solo5App('solo5', 'blk')]);
  t.equal(r.status, 1, 'a 6 KiB image with 4 KiB sectors');
  t.match(r.stderr, /6144 bytes/);
});

t.test('net answers pings through the net ring and through the hypercalls', { skip }, async (t) => {
  const N = 200;
  for (const abi of ABIS) {
    for (const netRing of [true, false]) {
      const l = await StreamListener.open();
      t.teardown(() => l.close());
      const guest = await launch({
        kernel: solo5App(abi, 'net'),
        target: 'hvt',
        args: ['--solo5:quiet', '10.0.0.2', String(N)],
        memMB: 32,
        net: { service: { unix: l.path } },
        netRing,
      });
      const pinger = new Pinger(await l.accept(PEER_MAC), '10.0.0.1');
      const mac = await pinger.resolve('10.0.0.2');
      const r = await pinger.ping('10.0.0.2', mac, N, { window: 4 });
      t.same([r.received, r.corrupt], [N, 0], `${abi}, ${netRing ? 'ring' : 'hypercalls'}: ${N} echo replies`);
      t.equal((await guest.exited).status, 0, `${abi}, ${netRing ? 'ring' : 'hypercalls'}: exit 0`);
    }
  }
});
