// block-attach.test.ts: every way a block image can be wrong gets one line and exit 1, naming device and file.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { imageMaker } from './support/images';
import { app, sptCli } from './support/paths';

const image = imageMaker('solo5-blk-');
const tmp = path.dirname(image('probe.img', 512));

function cli(args: string[]) {
  return spawnSync(process.execPath, [sptCli, '--mem=32', ...args], { encoding: 'utf8', timeout: 120_000 });
}

t.test('refused block attachments', async (tt) => {
  const good = image('good.img', 64 * 1024);
  const cases: [string[], RegExp][] = [
    [[app('blk')], /not attached: storage \(--block:storage=PATH\)/],
    [[`--block:storage=${path.join(tmp, 'missing.img')}`, app('blk')], /block device 'storage': cannot open .*missing\.img: ENOENT/],
    [[`--block:storage=${image('odd.img', 1000)}`, app('blk')], /odd\.img is 1000 bytes, not a multiple of the 512-byte block size/],
    [[`--block:storage=${image('tiny.img', 100)}`, app('blk')], /tiny\.img is 100 bytes, smaller than one 512-byte block/],
    [[`--block:storage=${image('empty.img', 0)}`, app('blk')], /empty\.img is 0 bytes, smaller than one 512-byte block/],
    [[`--block:storage=${image('small4k.img', 6144)}`, '--block-sector-size:storage=4096', app('blk')], /not a multiple of the 4096-byte/],
    [[`--block:storage=${good}`, '--block-sector-size:storage=1000', app('blk')], /sector size 1000 must be a power of two/],
    [[`--block:storage=${good}`, '--block-sector-size:storage=256', app('blk')], /sector size 256 must be a power of two from 512/],
    [[`--block:storage=${tmp}`, app('blk')], /is not a regular file|EISDIR/],
    [[`--block:storage=${good}`, `--block:other=${good}`, app('blk')], /attached but not declared.*--block:other/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    tt.equal(r.status, 1, `${args.slice(0, -1).join(' ')}: exit 1`);
    tt.match(r.stderr, re, 'names the fault');
    tt.match(r.stderr, /^solo5-spt: [^\n]+\n$/, 'one line');
    tt.equal(r.stdout, '', 'the guest never ran');
  }
});

t.test('a good image on 512 and 4096-byte sectors', async (tt) => {
  for (const sector of [512, 4096]) {
    const img = image(`ok${sector}.img`, 256 * 1024);
    const r = cli([`--block:storage=${img}`, `--block-sector-size:storage=${sector}`, app('blk')]);
    tt.equal(r.status, 0, `sector ${sector}: exit 0 ${r.stderr}`);
    tt.match(r.stdout, `block size ${sector}`);
    tt.match(r.stdout, 'SUCCESS');
  }
});
