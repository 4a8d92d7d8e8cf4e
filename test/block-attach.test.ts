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
  const missing = path.join(tmp, 'missing.img');
  // Upstream's words first where it has them (its tests grep them), then the reason naming device and file.
  const cases: [string[], string[]][] = [
    [
      [app('blk')],
      [
        "Device 'storage' of type BLOCK_BASIC declared but not attached.",
        'All declared devices must be attached. See --help for syntax.',
        `${app('blk')}: devices do not match its manifest: not attached: storage (--block:storage=PATH)`,
      ],
    ],
    [
      [`--block:storage=${missing}`, app('blk')],
      [
        `Could not open block device: ${missing}: No such file or directory`,
        `block device 'storage': cannot open ${missing}: No such file or directory`,
      ],
    ],
    [
      [`--block:storage=${image('odd.img', 1000)}`, app('blk')],
      [
        'storage: Backing storage size must be block aligned (512 bytes)',
        `block device 'storage': ${tmp}/odd.img is 1000 bytes, not a multiple of the 512-byte block size`,
      ],
    ],
    [
      [`--block:storage=${image('tiny.img', 100)}`, app('blk')],
      [
        'storage: Backing storage size must be block aligned (512 bytes)',
        `block device 'storage': ${tmp}/tiny.img is 100 bytes, not a multiple of the 512-byte block size`,
      ],
    ],
    [
      [`--block:storage=${image('empty.img', 0)}`, app('blk')],
      [
        'storage: Backing storage must be at least 1 block (512 bytes) in size',
        `block device 'storage': ${tmp}/empty.img is 0 bytes, smaller than one 512-byte block`,
      ],
    ],
    [
      [`--block:storage=${image('small4k.img', 6144)}`, '--block-sector-size:storage=4096', app('blk')],
      [
        'storage: Backing storage size must be block aligned (4096 bytes)',
        `block device 'storage': ${tmp}/small4k.img is 6144 bytes, not a multiple of the 4096-byte block size`,
      ],
    ],
    [
      [`--block:storage=${good}`, '--block-sector-size:storage=1000', app('blk')],
      [
        'Block size must be a multiple of 2 greater than or equal 512',
        "Invalid option: `--block-sector-size:storage=1000'",
        "block device 'storage': sector size 1000 must be a power of two from 512 to 32768",
      ],
    ],
    [
      [`--block:storage=${good}`, '--block-sector-size:storage=256', app('blk')],
      [
        'Block size must be a multiple of 2 greater than or equal 512',
        "Invalid option: `--block-sector-size:storage=256'",
        "block device 'storage': sector size 256 must be a power of two from 512 to 32768",
      ],
    ],
    [
      [`--block:storage=${good}`, '--block-sector-size:storage=x', app('blk')],
      [
        'Block size must be a multiple of 2 greater than or equal 512',
        "Invalid option: `--block-sector-size:storage=x'",
        "--block-sector-size:storage: 'x' is not a number",
      ],
    ],
    [
      [`--block:storage=${tmp}`, app('blk')],
      [`Could not open block device: ${tmp}: Is a directory`, `block device 'storage': cannot open ${tmp}: Is a directory`],
    ],
    [
      [`--block:storage=${good}`, `--block:other=${good}`, app('blk')],
      [
        "Resource not declared in manifest: 'other'",
        `Invalid option: \`--block:other=${good}'`,
        `${app('blk')}: devices do not match its manifest: attached but not declared as that type in the manifest: --block:other`,
      ],
    ],
  ];
  for (const [args, lines] of cases) {
    const r = cli(args);
    tt.equal(r.status, 1, `${args.slice(0, -1).join(' ')}: exit 1`);
    tt.equal(r.stderr, lines.map((l) => `solo5-spt: ${l}\n`).join(''), 'exactly these lines');
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
