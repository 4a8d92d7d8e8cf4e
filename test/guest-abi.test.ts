// guest-abi.test.ts: the Solo5-ABI builds match upstream's image layout, run by the published boot protocol and seccomp rules, and upstream-API source builds for every ABI.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestPaths } from '../lib/build';

const ROOT = join(__dirname, '..', '..');
const GUEST = join(ROOT, 'guest', 'build');
const BUILD = join(ROOT, 'dist', 'bin', 'solo5-build.js');
const SPT = join(ROOT, 'dist', 'bin', 'solo5-spt.js');
const dir = mkdtempSync(join(tmpdir(), 'sn-guest-abi-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const have = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const missing = [
  (process.platform !== 'linux' || arch() !== 'x64') && 'the Solo5 spt ABI is x86_64 Linux only here',
  !have('gcc') && 'gcc is not installed',
  !have('readelf') && 'readelf (binutils) is not installed',
  !existsSync(guestPaths('spt', undefined, 'solo5').bindings) && 'the guest bindings are not built (npm run build:guest)',
  !existsSync(join(GUEST, 'solo5', 'hello.spt')) && 'the Solo5-ABI apps are not built (npm run build:guest)',
].filter((m): m is string => typeof m === 'string');
const skip = missing.length > 0 ? missing.join('; ') : false;

const SOLO5_ABIS = ['solo5', 'solo5-v1'] as const;

const app = (abi: string, name: string): string => join(GUEST, abi, `${name}.spt`);

/*
 * The stand-in for upstream's tender (test/guest-abi-loader.c), built once.
 * It maps, loads, boots and confines exactly as the facts sheet says, so a
 * guest that runs under it follows the ABI as published, not merely as this
 * project's tender implements it.
 */
let loader = '';
function buildLoader(): string {
  if (loader !== '') return loader;
  const out = join(dir, 'guest-abi-loader');
  const r = spawnSync(
    'gcc',
    ['-O1', '-Wall', '-Werror', '-I', join(ROOT, 'include'), '-o', out, join(ROOT, 'test', 'guest-abi-loader.c')],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`building the loader failed: ${r.stderr}`);
  loader = out;
  return out;
}

interface Ran {
  status: number | null;
  out: string;
  err: string;
}

function load(args: string[]): Ran {
  const r = spawnSync(buildLoader(), args, { encoding: 'utf8', timeout: 60000 });
  const status =
    r.status ?? (r.signal !== null ? 128 + ({ SIGSEGV: 11, SIGSYS: 31, SIGABRT: 6 } as Record<string, number>)[r.signal] : null);
  return { status, out: r.stdout, err: r.stderr };
}

function readelf(...args: string[]): string {
  const r = spawnSync('readelf', ['-W', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`readelf ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface Phdr {
  type: string;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
  flags: string;
}

function phdrs(file: string): { list: Phdr[]; mapping: string[] } {
  const text = readelf('-l', file);
  const list = [
    ...text.matchAll(
      /^\s{2}(\w+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+([RWE ]*?)\s*0x[0-9a-f]+$/gm,
    ),
  ].map((m) => ({
    type: m[1],
    vaddr: BigInt(m[2]),
    filesz: BigInt(m[3]),
    memsz: BigInt(m[4]),
    flags: m[5].replace(/\s/g, ''),
  }));
  const mapping = [...text.slice(text.indexOf('Section to Segment mapping')).matchAll(/^[ \t]+\d\d[ \t]+(.*)$/gm)].map((m) => m[1].trim());
  return { list, mapping };
}

t.test("Solo5 ABI 2 images: upstream's nine program headers, in its order", { skip }, async (tt) => {
  for (const name of ['hello', 'tls']) {
    const { list, mapping } = phdrs(app('solo5', name));
    tt.same(
      list.map((p) => p.type),
      ['INTERP', 'LOAD', 'LOAD', 'LOAD', 'TLS', 'LOAD', 'NOTE', 'NOTE', 'NOTE'],
      `${name}: types`,
    );
    tt.same(
      list.map((p) => p.flags),
      ['R', 'RE', 'RW', 'R', '', 'RW', 'R', 'R', 'R'],
      `${name}: flags`,
    );
    tt.equal(list[0].vaddr, 0x100000n, `${name}: PT_INTERP at 1 MiB, the start of text`);
    tt.equal(list[0].filesz, 24n, `${name}: PT_INTERP is 24 bytes`);
    tt.equal(list[5].filesz, 0n, `${name}: the bss PT_LOAD has no file bytes`);
    tt.same(
      mapping.slice(6),
      ['.note.solo5.not_openbsd', '.note.solo5.abi', '.note.solo5.manifest'],
      `${name}: one note per PT_NOTE, not_openbsd first`,
    );
    tt.match(
      mapping[1],
      /^\.interp \.text \.note\.solo5\.manifest \.note\.solo5\.abi \.note\.solo5\.not_openbsd/,
      `${name}: text holds interp, code, then the notes in file order`,
    );
  }
  const hello = phdrs(app('solo5', 'hello')).list;
  tt.same([hello[3].vaddr, hello[3].filesz, hello[3].memsz], [0n, 0n, 0n], 'no TLS: the tdata PT_LOAD is empty at address 0');
  tt.same([hello[4].vaddr, hello[4].memsz], [0n, 0n], 'no TLS: PT_TLS is empty');
  const tls = phdrs(app('solo5', 'tls'));
  tt.equal(tls.mapping[3], '.tdata', 'with TLS: .tdata in its own read-only PT_LOAD');
  tt.equal(tls.list[3].filesz % 0x1000n, 0n, '.tdata is padded to a page');
  tt.equal(tls.mapping[4], '.tbss', 'PT_TLS covers .tbss');
});

t.test('Solo5 ABI 1 images: six program headers; data holds tdata, tbss and bss', { skip }, async (tt) => {
  const { list, mapping } = phdrs(app('solo5-v1', 'tls'));
  tt.same(
    list.map((p) => p.type),
    ['INTERP', 'LOAD', 'LOAD', 'NOTE', 'NOTE', 'NOTE'],
  );
  tt.same(
    list.map((p) => p.flags),
    ['R', 'RE', 'RW', 'R', 'R', 'R'],
  );
  tt.match(mapping[2], /\.data \.tdata .*\.bss/, 'the data segment');
  tt.same(mapping.slice(3), ['.note.solo5.not_openbsd', '.note.solo5.abi', '.note.solo5.manifest']);
});

t.test('the ABI1 notes say spt and the Solo5 ABI version; the OpenBSD note is there', { skip }, async (tt) => {
  for (const [abi, version] of [
    ['solo5', '02'],
    ['solo5-v1', '01'],
  ] as const) {
    const notes = readelf('-n', app(abi, 'hello'));
    tt.match(
      notes,
      /Solo5\s+0x00000010\s+Unknown note type: \(0x31494241\)\s+description data: 02 00 00 00 (\d\d) 00 00 00 00 00 00 00 00 00 00 00/,
      `${abi}: 16-byte descriptor`,
    );
    tt.equal(/0x31494241\)\s+description data: 02 00 00 00 (\d\d)/.exec(notes)?.[1], version, `${abi}: version ${version}`);
    tt.match(notes, /OpenBSD\s+0x00000004\s+NT_VERSION/, `${abi}: not_openbsd note`);
    tt.match(readelf('-l', app(abi, 'hello')), /\[Requesting program interpreter: \/nonexistent\/solo5\/\]/, `${abi}: interp`);
  }
});

t.test('Solo5-ABI builds run with --mem=2 under the published boot protocol and seccomp rules', { skip }, async (tt) => {
  const digests: string[] = [];
  for (const abi of SOLO5_ABIS) {
    await tt.test(abi, async (at) => {
      const hello = load(['--mem=2', app(abi, 'hello'), 'one', 'two']);
      at.equal(hello.status, 0, `hello: ${hello.err}`);
      at.match(hello.out, /^Solo5: solo5-node bindings .* \(spt, Solo5 ABI\)$/m, 'banner');
      at.match(hello.out, /Hello, World\nCommand line is: 'one two'\nSUCCESS\n/, 'hello output');

      const image = join(dir, `blk-${abi}.img`);
      writeFileSync(image, Buffer.alloc(64 * 1024));
      const blk = load(['--mem=2', `--block:storage=${image}`, app(abi, 'blk'), '--solo5:quiet']);
      at.equal(blk.status, 0, `blk: ${blk.out}${blk.err}`);
      at.match(blk.out, /SUCCESS/);
      digests.push(createHash('sha256').update(readFileSync(image)).digest('hex'));

      const acquire = load(['--mem=2', `--block:storage=${image}`, app(abi, 'acquire'), '--solo5:quiet']);
      at.equal(acquire.status, 0, `acquire: ${acquire.out}${acquire.err}`);
      at.equal(acquire.out, 'SUCCESS\n', 'acquire: lookups and bad handles answer as on the ring ABI');

      const net = load(['--mem=2', '--net:service=10.0.0.2', '--ping=5', app(abi, 'net'), '--solo5:quiet', '10.0.0.2', '5']);
      at.equal(net.status, 0, `net: ${net.out}${net.err}`);
      at.match(net.out, /LOADER ARP ok\n/, 'the guest answers ARP');
      at.match(net.out, /LOADER PING 5\/5\n/, 'and every echo request');

      const cases: [string, string[], number, RegExp][] = [
        ['tls', [], 0, /SUCCESS/],
        ['time', [], 0, /SUCCESS/],
        ['sleep', [], 0, /SUCCESS/],
        ['globals', [], 0, /SUCCESS/],
        ['fpu', [], 0, /SUCCESS/],
        ['exitcode', [], 2, /exiting with 2/],
        ['abort', [], 255, /ABORT: solo5_abort\(\) called/],
        ['ssp', [], 255, /ABORT: stack smashing detected/],
        ['notls', [], 139, /expect a fault/],
        ['exception', [], 139, /expect a fault/],
        ['zeropage', [], 139, /expect a fault/],
        ['wnox', [], 139, /./],
        ['xnow', [], 139, /./],
        ['seccomp', [], 159, /expect SIGSYS/],
      ];
      for (const [name, args, status, out] of cases) {
        const r = load(['--mem=2', app(abi, name), ...args]);
        at.equal(r.status, status, `${name}: status ${status}`);
        at.match(r.out, out, `${name}: output`);
      }
    });
  }
  tt.equal(digests.length, 2);
  tt.equal(digests[0], digests[1], 'blk leaves the same image under ABI 2 and ABI 1');
});

/* sysprobe's Solo5 probes (guest/apps/sysprobe/sysprobe.c) and what upstream's policy does with each. */
const PROBES: [string, 'allowed' | 'killed'][] = [
  ['write-fd1', 'allowed'],
  ['write-fd2', 'killed'],
  ['clock-realtime', 'allowed'],
  ['clock-monotonic', 'allowed'],
  ['clock-cputime', 'killed'],
  ['clock-boottime', 'killed'],
  ['tls-setfs', 'allowed'],
  ['arch-getfs', 'killed'],
  ['arch-setgs', 'killed'],
  ['epoll-pwait', 'allowed'],
  ['epoll-pwait-otherfd', 'killed'],
  ['epoll-pwait2', 'killed'],
  ['timerfd-settime', 'allowed'],
  ['timerfd-settime-otherfd', 'killed'],
  ['net-read', 'allowed'],
  ['net-read-otherfd', 'killed'],
  ['net-write', 'allowed'],
  ['net-write-otherfd', 'killed'],
  ...(['pread', 'pwrite'] as const).flatMap((op): [string, 'allowed' | 'killed'][] => [
    [`block-${op}`, 'allowed'],
    [`block-${op}-last`, 'allowed'],
    [`block-${op}-unaligned`, 'allowed'],
    [`block-${op}-short`, 'killed'],
    [`block-${op}-long`, 'killed'],
    [`block-${op}-past`, 'killed'],
    [`block-${op}-end`, 'killed'],
    [`block-${op}-netfd`, 'killed'],
  ]),
  ['sched-yield', 'killed'],
  ['exit-group', 'allowed'],
  ['exit-plain', 'killed'],
  ['open', 'killed'],
  ['socket', 'killed'],
  ['mmap', 'killed'],
  ['getpid', 'killed'],
];

t.test("sysprobe (Solo5 ABI): each rule of upstream's policy, allowed and one argument changed", { skip }, async (tt) => {
  const image = join(dir, 'probe.img');
  writeFileSync(image, Buffer.alloc(8192));
  const listing = load(['--mem=2', `--block:storage=${image}`, '--net:service=10.0.0.2', app('solo5', 'sysprobe'), 'nosuch']);
  tt.equal(listing.status, 2, 'an unknown probe lists the probes');
  const listed = /probes:(.*)$/m.exec(listing.out)?.[1].trim().split(' ') ?? [];
  tt.same([...listed].sort(), PROBES.map(([p]) => p).sort(), 'the test covers every probe the app has');
  for (const [probe, expect] of PROBES) {
    const r = load(['--mem=2', `--block:storage=${image}`, '--net:service=10.0.0.2', app('solo5', 'sysprobe'), '--solo5:quiet', probe]);
    if (expect === 'allowed') {
      tt.equal(r.status, 0, `${probe}: allowed`);
      tt.match(r.out, `PROBE OK ${probe}`, `${probe}: the call returned`);
    } else {
      tt.equal(r.status, 159, `${probe}: killed by SIGSYS`);
      tt.notMatch(r.out, `PROBE OK ${probe}`, `${probe}: the call never returned`);
    }
  }
});

/*
 * Every declaration of upstream's include/solo5.h, checked by type: an
 * assignment to a pointer of the exact upstream type, which -Werror turns
 * into a failure on any difference, plus the values and layouts.
 */
const API_C = `#include "solo5.h"
_Static_assert(SOLO5_R_OK == 0 && SOLO5_R_AGAIN == 1 && SOLO5_R_EINVAL == 2 && SOLO5_R_EUNSPEC == 3, "results");
_Static_assert(SOLO5_EXIT_SUCCESS == 0 && SOLO5_EXIT_FAILURE == 1 && SOLO5_EXIT_ABORT == 255, "exit codes");
_Static_assert(SOLO5_NET_ALEN == 6 && SOLO5_NET_HLEN == 14, "net constants");
_Static_assert(sizeof(struct solo5_start_info) == 24 && __builtin_offsetof(struct solo5_start_info, heap_size) == 16, "start info");
_Static_assert(sizeof(struct solo5_net_info) == 16 && __builtin_offsetof(struct solo5_net_info, mtu) == 8, "net info");
_Static_assert(sizeof(struct solo5_block_info) == 16 && __builtin_offsetof(struct solo5_block_info, block_size) == 8, "block info");
_Static_assert(sizeof(solo5_time_t) == 8 && sizeof(solo5_handle_t) == 8 && sizeof(solo5_handle_set_t) == 8 && sizeof(solo5_off_t) == 8, "types");
void (*const p_exit)(int) = solo5_exit;
void (*const p_abort)(void) = solo5_abort;
size_t (*const p_tls_size)(void) = solo5_tls_size;
uintptr_t (*const p_tls_tp)(uintptr_t) = solo5_tls_tp_offset;
solo5_result_t (*const p_tls_init)(uintptr_t) = solo5_tls_init;
solo5_result_t (*const p_tls_base)(uintptr_t) = solo5_set_tls_base;
solo5_time_t (*const p_mono)(void) = solo5_clock_monotonic;
solo5_time_t (*const p_wall)(void) = solo5_clock_wall;
void (*const p_yield)(solo5_time_t, solo5_handle_set_t *) = solo5_yield;
void (*const p_console)(const char *, size_t) = solo5_console_write;
solo5_result_t (*const p_net_acquire)(const char *, solo5_handle_t *, struct solo5_net_info *) = solo5_net_acquire;
solo5_result_t (*const p_net_write)(solo5_handle_t, const uint8_t *, size_t) = solo5_net_write;
solo5_result_t (*const p_net_read)(solo5_handle_t, uint8_t *, size_t, size_t *) = solo5_net_read;
solo5_result_t (*const p_blk_acquire)(const char *, solo5_handle_t *, struct solo5_block_info *) = solo5_block_acquire;
solo5_result_t (*const p_blk_write)(solo5_handle_t, solo5_off_t, const uint8_t *, size_t) = solo5_block_write;
solo5_result_t (*const p_blk_read)(solo5_handle_t, solo5_off_t, uint8_t *, size_t) = solo5_block_read;
int solo5_app_main(const struct solo5_start_info *si)
{
    static uint8_t tls[256];
    struct solo5_net_info ni;
    struct solo5_block_info bi;
    solo5_handle_t h;
    solo5_handle_set_t ready;
    uint8_t buf[512];
    size_t got;
    int bad = 0;
    bad |= solo5_tls_size() > sizeof tls;
    bad |= solo5_tls_init((uintptr_t)tls) != SOLO5_R_OK;
    bad |= solo5_set_tls_base(solo5_tls_tp_offset((uintptr_t)tls)) != SOLO5_R_OK;
    bad |= solo5_clock_wall() < 1500000000ULL * 1000000000ULL;
    solo5_time_t t0 = solo5_clock_monotonic();
    solo5_yield(t0 + 1000000, &ready);
    bad |= ready != 0 || solo5_clock_monotonic() < t0 + 1000000;
    bad |= solo5_net_acquire("nosuch", &h, &ni) != SOLO5_R_EINVAL;
    bad |= solo5_block_acquire("nosuch", &h, &bi) != SOLO5_R_EINVAL;
    bad |= solo5_net_write(7, buf, 60) != SOLO5_R_EINVAL || solo5_net_read(7, buf, sizeof buf, &got) != SOLO5_R_EINVAL;
    bad |= solo5_block_write(7, 0, buf, 512) != SOLO5_R_EINVAL || solo5_block_read(7, 0, buf, 512) != SOLO5_R_EINVAL;
    solo5_console_write(bad ? "API FAILURE\\n" : "API OK\\n", bad ? 12 : 7);
    if (si->heap_size == 0)
        solo5_abort();
    solo5_exit(bad);
}
`;

t.test("source written against upstream's solo5.h builds unchanged for every ABI and runs", { skip }, async (tt) => {
  const src = join(dir, 'api.c');
  writeFileSync(src, API_C);
  const mft = join(dir, 'api.json');
  writeFileSync(mft, JSON.stringify({ type: 'solo5.manifest', version: 1, devices: [] }));
  const builds: [string, string[]][] = [
    ['api.spt', []],
    ['api.hvt', ['--target=hvt']],
    ['api-solo5.spt', ['--abi=solo5']],
    ['api-solo5-v1.spt', ['--abi=solo5-v1']],
  ];
  for (const [out, args] of builds) {
    const r = spawnSync(process.execPath, [BUILD, ...args, '--cflag=-Werror', '--cflag=-Wextra', '-m', mft, '-o', join(dir, out), src], {
      encoding: 'utf8',
    });
    tt.equal(r.status, 0, `${out}: builds with -Werror: ${r.stderr}`);
  }
  for (const out of ['api-solo5.spt', 'api-solo5-v1.spt']) {
    const r = load(['--mem=2', join(dir, out), '--solo5:quiet']);
    tt.equal(r.status, 0, `${out} runs: ${r.out}${r.err}`);
    tt.match(r.out, /API OK/);
  }
  // The ring build through this project's tender.
  const ring = spawnSync(process.execPath, [SPT, '--mem=8', join(dir, 'api.spt'), '--solo5:quiet'], { encoding: 'utf8', timeout: 60000 });
  tt.equal(ring.status, 0, `api.spt runs on the ring ABI: ${ring.stderr}`);
  tt.match(ring.stdout, /API OK/);
});
