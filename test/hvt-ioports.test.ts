// hvt-ioports.test.ts: the Solo5-ABI hvt bindings' ring-3 `outl` reaches the tender through the TSS's I/O bitmap, and through the #GP gate without it.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../lib';
import { kvmUnavailable } from './support/kvm';
import { root } from './support/paths';

/*
 * The application runs in ring 3 (docs/hvt.md). Its hypercalls are `outl`s
 * to ports 0x501-0x508 and its ring kicks to 0x600, which the bindings' TSS
 * opens to ring 3 (guest/bindings/solo5hvt/s5h.h), so they exit to the
 * tender with no ring-0 detour; any other port goes through the #GP gate,
 * which redoes the `outl` in ring 0. The guest (hvt-ioports-guest.c) counts
 * the gate's `outl`s around three PUTS: with the bitmap, with the bitmap
 * switched off, and with it back. Under both this project's tender and the
 * stand-in for upstream's (test/hvt-abi-loader.c), on either ABI version.
 */
const dir = mkdtempSync(join(tmpdir(), 'sn-hvt-ioports-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const ABIS = ['solo5', 'solo5-v1'] as const;
const gccMissing = spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0 ? 'gcc is not installed' : undefined;
const skip =
  kvmUnavailable() ??
  gccMissing ??
  (existsSync(join(root, 'guest', 'build', 'bindings-solo5hvt', 'solo5hvt-solo5.o'))
    ? undefined
    : 'the Solo5-ABI hvt bindings are not built (npm run build:guest)');

function build(abi: string): string {
  const manifest = join(dir, 'manifest.json');
  writeFileSync(manifest, JSON.stringify({ type: 'solo5.manifest', version: 1, devices: [] }));
  const out = join(dir, `ioports-${abi}.hvt`);
  const cli = join(root, 'dist', 'bin', 'solo5-build.js');
  const src = join(root, 'test', 'hvt-ioports-guest.c');
  const r = spawnSync(process.execPath, [cli, `--abi=${abi}`, '--target=hvt', `--manifest=${manifest}`, `--output=${out}`, src], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`solo5-build failed: ${r.stderr}`);
  return out;
}

function loader(): string {
  const out = join(dir, 'hvt-abi-loader');
  const r = spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-I', join(root, 'include'), '-o', out, join(root, 'test', 'hvt-abi-loader.c')], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`building the loader failed: ${r.stderr}`);
  return out;
}

function check(tt: Test, output: string): void {
  tt.match(output, 'through the bitmap\nthrough the gate\nthrough the bitmap again\n', 'every PUTS reached the tender');
  const m = /^redone in ring 0: (\d+) (\d+) (\d+)$/m.exec(output);
  tt.ok(m, 'the guest counted');
  tt.equal(m?.[1], '0', 'with the bitmap, no outl went through the gate');
  tt.not(m?.[2], '0', 'without it, the gate redid the outl');
  tt.equal(m?.[3], '0', 'with the bitmap back, none again');
  tt.match(output, 'open: 0x4fc 0 0x500 1 0x508 1 0x600 1 0x601 0\n', 'the hypercall ports and the ring kick only');
  tt.match(output, 'SUCCESS', 'the guest finished');
}

for (const abi of ABIS) {
  t.test(`${abi}: under solo5-hvt, through the API`, { skip }, async (tt) => {
    const r = await run({ kernel: build(abi), target: 'hvt', memMB: 8, timeoutMs: 60_000 });
    tt.equal(r.exit.status, 0, 'exit status 0');
    check(tt, r.output);
  });
  t.test(`${abi}: under the stand-in for upstream's solo5-hvt`, { skip }, async (tt) => {
    const r = spawnSync(loader(), ['--mem=8', build(abi)], { encoding: 'utf8', timeout: 60_000 });
    tt.equal(r.status, 0, `exit status 0 ${r.stderr}`);
    check(tt, r.stdout);
  });
}
