// abi.test.ts: lib/abi.ts agrees with include/sn_abi.h, as the addon and the system C compiler see it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import * as abi from '../lib/abi';
import { encodeMftForGuest } from '../lib/manifest/note';
import { native, packageRoot } from '../lib/native';
import { openBlockImage } from '../lib/tender/devices';

/** The numeric and bigint SN_* / HELPER_* constants of lib/abi.ts. */
const tsConstants: Record<string, bigint> = Object.fromEntries(
  Object.entries(abi)
    .filter(([name, v]) => /^(SN|HELPER)_[A-Z0-9_]+$/.test(name) && (typeof v === 'number' || typeof v === 'bigint'))
    .map(([name, v]) => [name, BigInt(v as number | bigint)]),
);

function tsOffset(key: string): number | undefined {
  const [struct, field] = key.split('.');
  return abi.LAYOUTS[struct]?.offsets[field];
}

let addonWhy: string | undefined;
try {
  native();
} catch (e) {
  addonWhy = (e as Error).message;
}

t.test('the addon (C++ offsetof/sizeof) agrees with lib/abi.ts', { skip: addonWhy ?? false }, async (t) => {
  const { offsets, sizes, constants } = native().layout;
  t.ok(Object.keys(offsets).length > 30, 'the addon exports the offsets');
  for (const [key, value] of Object.entries(offsets)) t.equal(tsOffset(key), value, `offset ${key}`);
  for (const [name, value] of Object.entries(sizes)) t.equal(abi.LAYOUTS[name]?.size, value, `sizeof ${name}`);
  for (const [name, value] of Object.entries(constants)) t.equal(tsConstants[name], BigInt(value), name);
});

/*
 * The addon exports only what fits a JavaScript number and what it chose to
 * list; the system C compiler sees the whole header, so every constant and
 * field of lib/abi.ts is checked against it, and every SN_* macro of the
 * header must have a twin in lib/abi.ts.
 */
function cProbe(): string {
  const lines = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include "sn_abi.h"',
    '#include "sn_solo5.h"',
    '#include "sn_solo5_hvt.h"',
    '#include "helper_plan.h"',
    'int main(void) {',
  ];
  const put = (key: string, expr: string) => lines.push(`  printf("%s %llu\\n", "${key}", (unsigned long long)(${expr}));`);
  for (const name of Object.keys(tsConstants)) put(name, name);
  for (const [struct, l] of Object.entries(abi.LAYOUTS)) {
    put(`sizeof.${struct}`, `sizeof(struct ${struct})`);
    for (const field of Object.keys(l.offsets)) put(`${struct}.${field}`, `offsetof(struct ${struct}, ${field})`);
  }
  lines.push(
    '  printf("SN_NOTE_NAME %s\\n", SN_NOTE_NAME);',
    '  printf("SN_INTERP_PATH %s\\n", SN_INTERP_PATH);',
    '  printf("SN_HELPER_INPLACE_ARG %s\\n", SN_HELPER_INPLACE_ARG);',
    '  return 0;',
    '}',
  );
  return lines.join('\n');
}

let gccWhy: string | undefined;
try {
  execFileSync('gcc', ['--version'], { stdio: 'ignore' });
} catch {
  gccWhy = 'no gcc on this host';
}

t.test('the C compiler agrees with every constant and field of lib/abi.ts', { skip: gccWhy ?? false }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-abi-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const include = ['-I', path.join(packageRoot, 'include'), '-I', path.join(packageRoot, 'addon', 'helper')];
  fs.writeFileSync(path.join(dir, 'probe.c'), cProbe());
  execFileSync('gcc', ['-std=c11', '-Wall', '-Werror', ...include, '-o', path.join(dir, 'probe'), path.join(dir, 'probe.c')]);
  const seen = new Map(
    execFileSync(path.join(dir, 'probe'), { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );
  t.equal(seen.get('SN_NOTE_NAME'), abi.SN_NOTE_NAME, 'SN_NOTE_NAME');
  t.equal(seen.get('SN_INTERP_PATH'), abi.SN_INTERP_PATH, 'SN_INTERP_PATH');
  t.equal(seen.get('SN_HELPER_INPLACE_ARG'), abi.SN_HELPER_INPLACE_ARG, 'SN_HELPER_INPLACE_ARG');
  for (const [name, v] of Object.entries(tsConstants)) t.equal(BigInt(seen.get(name) ?? -1), v, name);
  for (const [struct, l] of Object.entries(abi.LAYOUTS)) {
    t.equal(Number(seen.get(`sizeof.${struct}`)), l.size, `sizeof ${struct}`);
    for (const [field, off] of Object.entries(l.offsets)) t.equal(Number(seen.get(`${struct}.${field}`)), off, `offset ${struct}.${field}`);
  }

  const macros = execFileSync('gcc', ['-dM', '-E', ...include, '-x', 'c', '-'], {
    input: '#include "sn_abi.h"\n#include "sn_solo5.h"\n#include "sn_solo5_hvt.h"\n',
    encoding: 'utf8',
  })
    .split('\n')
    .map((l) => /^#define (SN_[A-Z0-9_]+) /.exec(l)?.[1])
    .filter(
      (name): name is string =>
        name !== undefined &&
        ![
          'SN_ABI_H',
          'SN_SOLO5_H',
          'SN_SOLO5_HVT_H',
          'SN_STATIC_ASSERT',
          'SN_NOTE_NAME',
          'SN_INTERP_PATH',
          'SN_HELPER_INPLACE_ARG',
        ].includes(name),
    );
  t.same(
    macros.filter((name) => !(name in tsConstants)),
    [],
    'every SN_* constant of sn_abi.h, sn_solo5.h and sn_solo5_hvt.h is mirrored in lib/abi.ts',
  );
});

t.test('magic values and note types spell their ASCII names little-endian', async (t) => {
  const ascii = (v: bigint, bytes: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return b.subarray(0, bytes).toString('latin1');
  };
  t.equal(ascii(abi.SN_BOOTINFO_MAGIC, 8), 'SN5BOOT1');
  t.equal(ascii(abi.SN_PLAN_MAGIC, 8), '5SNPLAN1');
  t.equal(ascii(abi.SN_RINGS_MAGIC, 8), '5SNRING1');
  t.equal(ascii(BigInt(abi.SN_NOTE_TYPE_MFT), 4), 'MFT1');
  t.equal(ascii(BigInt(abi.SN_NOTE_TYPE_ABI), 4), 'ABI1');
  t.equal(abi.mftSize(abi.SN_MFT_MAX_ENTRIES), 8 + 104 * 64);
  t.equal(abi.SN_NOTE_MFT1_PAD + abi.mftSize(abi.SN_MFT_MAX_ENTRIES), abi.SN_NOTE_MFT1_MAX, "Solo5's MFT1_NOTE_MAX_SIZE");
  t.same(abi.TARGET_NUMBER, { hvt: 1, spt: 2 });
});

/*
 * One block size limit (SN_BLOCK_SIZE_MIN/MAX in sn_abi.h): the tender's image
 * check, the manifest copy and the broker's config check each take the
 * largest and refuse twice it, and take the smallest and refuse half of it.
 */
const { SN_BLOCK_SIZE_MIN: BS_LO, SN_BLOCK_SIZE_MAX: BS_HI } = abi;
const BLOCK_SIZES = [BS_LO / 2, BS_LO, BS_HI, 2 * BS_HI];
const blockSizeOk = (size: number) => size >= BS_LO && size <= BS_HI;

function blockImage(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-abi-blk-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const img = path.join(dir, 'disk.img');
  fs.writeFileSync(img, Buffer.alloc(2 * BS_HI));
  return img;
}

t.test('the tender and the manifest copy take block sizes from SN_BLOCK_SIZE_MIN to SN_BLOCK_SIZE_MAX', async (t) => {
  t.equal(BS_HI, 2 ** 15, 'the largest power of two the manifest u16 block_size holds');
  const img = blockImage(t);
  const range = `from ${BS_LO} to ${BS_HI}$`;
  for (const size of BLOCK_SIZES) {
    if (blockSizeOk(size)) {
      const b = openBlockImage('disk', img, size);
      fs.closeSync(b.fd);
      t.equal(b.blockSize, size, `tender: sector size ${size} taken`);
    } else {
      t.throws(
        () => openBlockImage('disk', img, size),
        new RegExp(`sector size ${size} must be a power of two ${range}`),
        `tender: ${size} refused`,
      );
    }
  }
  const m = { type: 'solo5.manifest' as const, version: 1 as const, devices: [{ name: 'disk', type: 'BLOCK_BASIC' as const }] };
  const attach = (blockSize: number) => new Map([['disk', { block: { capacity: BigInt(2 * BS_HI), blockSize } }]]);
  for (const size of BLOCK_SIZES) {
    if (blockSizeOk(size)) t.doesNotThrow(() => encodeMftForGuest(m, attach(size)), `manifest copy: ${size} taken`);
    else
      t.throws(
        () => encodeMftForGuest(m, attach(size)),
        new RegExp(`block size ${size} must be a power of two ${range}`),
        `manifest copy: ${size} refused`,
      );
  }
});

t.test('the broker config takes block sizes from SN_BLOCK_SIZE_MIN to SN_BLOCK_SIZE_MAX', { skip: addonWhy ?? false }, async (t) => {
  const n = native();
  const memSize = 4 << 20;
  const memFd = n.memfdCreate('abi-blk', memSize);
  t.teardown(() => fs.closeSync(memFd));
  const fd = fs.openSync(blockImage(t), 'r+');
  t.teardown(() => fs.closeSync(fd));
  for (const size of BLOCK_SIZES) {
    const config = {
      memFd,
      memSize,
      ringsAddr: abi.SN_GUEST_MIN_BASE,
      devices: [{ index: 1, name: 'disk', kind: 'block' as const, fd, capacity: 2 * BS_HI, blockSize: size }],
    };
    if (blockSizeOk(size)) {
      n.createGuestBroker(config, () => {}).stop();
      t.pass(`broker config: ${size} taken`);
    } else {
      t.throws(
        () => n.createGuestBroker(config, () => {}),
        new RegExp(`blockSize is ${size}, not an integer from ${BS_LO} to ${BS_HI}$`),
        `broker config: ${size} refused`,
      );
    }
  }
});
