// build.test.ts: solo5-build turns C and a manifest into a Solo5 ELF with the right notes and segments, and fails in one line.
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildUnikernel, firstDiagnostic, guestPaths, readFlags } from '../lib/build';
import { parseElf, queryAbi, queryManifest } from '../lib/elf';
import { HostError, ManifestError, UsageError } from '../lib/errors';
import { mftSize, SN_ABI_VERSION, SN_NOTE_MFT1_PAD } from '../lib/abi';

const ROOT = join(__dirname, '..', '..');
const BUILD = join(ROOT, 'dist', 'bin', 'solo5-build.js');
const ELFTOOL = join(ROOT, 'dist', 'bin', 'solo5-elftool.js');
const dir = mkdtempSync(join(tmpdir(), 'sn-build-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const have = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const missing = [
  !have('gcc') && 'gcc is not installed',
  !have('readelf') && 'readelf (binutils) is not installed',
  !existsSync(guestPaths().bindings) && 'the guest bindings are not built (npm run build:guest)',
].filter((m): m is string => typeof m === 'string');
const skip = missing.length > 0 ? missing.join('; ') : false;

const leHex = (n: number): string => [0, 8, 16, 24].map((s) => ((n >> s) & 0xff).toString(16).padStart(2, '0')).join(' ');

const file = (name: string, content: string): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

function build(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BUILD, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** An error is one line on stderr, nothing on stdout, exit 1. */
function failsWith(tt: Test, r: ReturnType<typeof build>, message: RegExp): void {
  tt.equal(r.code, 1, 'exit 1');
  tt.equal(r.out, '', 'nothing on stdout');
  tt.equal(r.err.split('\n').length, 2, `one line on stderr: ${JSON.stringify(r.err)}`);
  tt.match(r.err, message);
}

const readelf = (...args: string[]): string => {
  const r = spawnSync('readelf', ['-W', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`readelf ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const APP_C = `#include "solo5.h"
static const char msg[] = "built by the test\\n";
int counter = 3;
int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    solo5_console_write(msg, sizeof msg - 1);
    return counter;
}
`;
const MANIFEST = {
  type: 'solo5.manifest',
  version: 1,
  devices: [
    { name: 'service0', type: 'NET_BASIC' },
    { name: 'storage', type: 'BLOCK_BASIC' },
  ],
};

t.test('the flags file feeds both the Makefile and buildUnikernel', async (tt) => {
  const p = guestPaths();
  const cflags = readFlags(p.flagsFile, 'cflags');
  for (const f of ['-ffreestanding', '-nostdinc', '-fno-pie', '-fstack-protector-strong', '-mstack-protector-guard=global']) {
    tt.ok(cflags.includes(f), `cflags has ${f}`);
  }
  const ldflags = readFlags(p.flagsFile, 'ldflags');
  tt.ok(ldflags.includes('-nostdlib') && ldflags.includes('-static'), 'ldflags link statically without libc');
  tt.notOk(
    [...cflags, ...ldflags].some((f) => f.startsWith('#')),
    'comments are not flags',
  );
});

t.test('firstDiagnostic picks the error line', async (tt) => {
  tt.equal(firstDiagnostic('a.c: In function f:\na.c:3:1: error: expected ;\n  3 | }\n'), 'a.c:3:1: error: expected ;');
  tt.equal(
    firstDiagnostic("x.o: in function `f':\nx.c:(.text+0x1): undefined reference to `g'"),
    "x.c:(.text+0x1): undefined reference to `g'",
  );
  tt.equal(firstDiagnostic('just one thing\n'), 'just one thing');
  tt.equal(firstDiagnostic(''), 'no diagnostic output');
});

t.test('a small unikernel from a temporary directory', { skip }, async (tt) => {
  const src = file('app.c', APP_C);
  const mft = file('manifest.json', JSON.stringify(MANIFEST));
  const out = join(dir, 'out', 'app.spt');
  const r = build('--manifest', mft, '-o', out, src);
  tt.equal(r.code, 0, `solo5-build succeeds: ${r.err}`);
  tt.equal(r.err, '', 'silent on success');
  tt.ok(statSync(out).mode & 0o111, 'the output is executable (so that exec attempts hit PT_INTERP)');

  const header = readelf('-h', out);
  tt.match(header, /Type:\s+EXEC/, 'ET_EXEC');
  tt.match(header, /Machine:\s+Advanced Micro Devices X86-64/, 'EM_X86_64');

  const notes = readelf('-n', out);
  tt.match(notes, /Solo5\s+0x00000010\s+Unknown note type: \(0x31494241\)/, 'ABI1 note, 16-byte descriptor');
  tt.match(
    notes,
    new RegExp(`description data: 02 00 00 00 ${leHex(SN_ABI_VERSION)} 00 00 00 00 00 00 00 00 ?\\n`),
    `ABI1: target 2 (spt), version ${SN_ABI_VERSION}`,
  );
  // readelf does not display an 8-aligned note whose size is not a multiple of 8 (Solo5's own are not either): read the section.
  const mftBin = join(dir, 'mft.bin');
  execFileSync('objcopy', ['-O', 'binary', '--only-section=.note.solo5.manifest', out, mftBin]);
  const mftNote = readFileSync(mftBin);
  tt.same(
    [mftNote.readUInt32LE(0), mftNote.readUInt32LE(4), mftNote.readUInt32LE(8), mftNote.toString('latin1', 12, 24), mftNote.length],
    [6, SN_NOTE_MFT1_PAD + mftSize(3), 0x3154464d, 'Solo5\0\0\0\0\0\0\0', 20 + SN_NOTE_MFT1_PAD + mftSize(3)],
    'MFT1 note: "Solo5", 4 padding bytes, 8 + 3 * 104 bytes of manifest, alone in its section',
  );
  tt.match(notes, /OpenBSD\s+0x00000004\s+NT_VERSION \(version\)\s+description data: 00 00 00 00/, 'the "not OpenBSD" note');

  const segs = readelf('-l', out);
  tt.match(
    segs,
    /INTERP\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x000018 0x000018 R\s+0x8\n\s+\[Requesting program interpreter: \/nonexistent\/solo5\/\]/,
    "PT_INTERP is Solo5's 24 bytes",
  );
  const loads = [
    ...segs.matchAll(/^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+([RWE ]+?)\s+0x/gm),
  ];
  tt.equal(loads.length, 3, 'three PT_LOAD segments: text, rodata, data');
  tt.same(
    loads.map((m) => m[5].replace(/\s/g, '')),
    ['RE', 'R', 'RW'],
    'flags R+X, R, R+W',
  );
  for (const m of loads) {
    const vaddr = BigInt(m[2]);
    tt.ok(vaddr >= 0x100000n, `segment at ${m[2]} is at or above 1 MiB`);
    tt.equal(vaddr % 0x1000n, 0n, `segment at ${m[2]} is page aligned`);
    tt.notOk(m[5].includes('W') && m[5].includes('E'), `segment at ${m[2]} is not both writable and executable`);
  }
  tt.match(segs, /GNU_STACK(\s+0x0+){5}\s+RW\s/, 'the stack is not executable');
  // Each note alone in its own PT_NOTE, the OpenBSD one listed first (Solo5's readers see one note per segment).
  const mapping = segs.slice(segs.indexOf('Section to Segment mapping'));
  const noteSegs = [...segs.matchAll(/^\s*NOTE\s/gm)].length;
  tt.equal(noteSegs, 3, 'three PT_NOTE segments');
  const order = [...mapping.matchAll(/^\s*\d+\s+(\.note\.solo5\.\w+)\s*$/gm)].map((m) => m[1]);
  tt.same(order, ['.note.solo5.not_openbsd', '.note.solo5.abi', '.note.solo5.manifest'], 'one note per PT_NOTE, not_openbsd first');

  // The project's own reader agrees with readelf.
  const abi = spawnSync(process.execPath, [ELFTOOL, 'query-abi', out], { encoding: 'utf8' });
  tt.equal(abi.stdout, `{"type":"solo5.abi","target":"spt","version":${SN_ABI_VERSION}}\n`, 'solo5-elftool query-abi');
  const q = spawnSync(process.execPath, [ELFTOOL, 'query-manifest', out], { encoding: 'utf8' });
  tt.equal(q.status, 0, q.stderr);
  tt.same(JSON.parse(q.stdout), MANIFEST, 'solo5-elftool query-manifest gives the manifest back');

  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  tt.ok(readFileSync(out).includes(`solo5-node bindings ${pkg.version}`), 'the banner carries the package version');
});

t.test('the ELF cannot be executed directly on the host', { skip }, async (tt) => {
  const out = join(dir, 'direct.spt');
  tt.equal(build('-m', file('direct.json', JSON.stringify({ ...MANIFEST, devices: [] })), '-o', out, file('direct.c', APP_C)).code, 0);
  // The kernel's ENOENT for the missing interpreter, as a program reports it...
  const env = spawnSync('env', [out], { encoding: 'utf8' });
  tt.equal(env.status, 127, 'env: 127');
  tt.match(env.stderr, /No such file or directory/, 'env: No such file or directory');
  const direct = spawnSync(out, [], { encoding: 'utf8' });
  const directError: NodeJS.ErrnoException | undefined = direct.error;
  tt.equal(directError?.code, 'ENOENT', 'execve fails with ENOENT although the file exists');
  // ...and as a shell does (dash says "not found", bash "required file not found").
  const sh = spawnSync('/bin/sh', ['-c', `'${out}'`], { encoding: 'utf8' });
  tt.equal(sh.status, 127, '/bin/sh: 127');
  tt.notMatch(sh.stdout, /built by the test/, 'no guest code ran');
});

t.test('bad inputs: one line and exit 1', { skip }, async (tt) => {
  const good = file('good.c', APP_C);
  const mft = file('m.json', JSON.stringify(MANIFEST));
  const out = join(dir, 'bad.spt');
  const cases: [string, string[], RegExp][] = [
    ['no arguments', [], /^solo5-build: missing --manifest=FILE/],
    ['no output', ['-m', mft, good], /^solo5-build: missing --output=FILE/],
    ['no sources', ['-m', mft, '-o', out], /^solo5-build: no source files given/],
    [
      'unknown option',
      ['--frobnicate', '-m', mft, '-o', out, good],
      /^solo5-build: Unknown option '--frobnicate' \(see solo5-build --help\)$/m,
    ],
    [
      'unknown target',
      ['--target=xen', '-m', mft, '-o', out, good],
      /^solo5-build: --target=xen: unknown target \(spt or hvt or virtio\)$/m,
    ],
    ['unknown ABI', ['--abi=xen', '-m', mft, '-o', out, good], /^solo5-build: --abi=xen: unknown ABI \(ring, solo5, solo5-v1\)$/m],
    ['missing source', ['-m', mft, '-o', out, join(dir, 'nope.c')], /^solo5-build: .*nope\.c: source file not found$/m],
    ['not a source', ['-m', mft, '-o', out, file('x.txt', 'hi')], /^solo5-build: .*x\.txt: not a C \(\.c\) or assembly/],
    [
      'missing manifest',
      ['-m', join(dir, 'none.json'), '-o', out, good],
      /^solo5-build: .*none\.json: cannot open: No such file or directory$/m,
    ],
    ['manifest not JSON', ['-m', file('nj.json', '{'), '-o', out, good], /^solo5-build: .*nj\.json: /],
    [
      'manifest with an unknown key',
      ['-m', file('uk.json', JSON.stringify({ ...MANIFEST, extra: 1 })), '-o', out, good],
      /^solo5-build: .*uk\.json: .*extra/,
    ],
    [
      'manifest with a bad device name',
      ['-m', file('bn.json', JSON.stringify({ ...MANIFEST, devices: [{ name: 'no-dash', type: 'NET_BASIC' }] })), '-o', out, good],
      /^solo5-build: .*bn\.json: devices\[0\]\.name: /,
    ],
    [
      'syntax error',
      ['-m', mft, '-o', out, file('syntax.c', 'int solo5_app_main(void) { return }\n')],
      /^solo5-build: compiling .*syntax\.c failed: .*syntax\.c:1:\d+: error: /,
    ],
    [
      'libc header',
      ['-m', mft, '-o', out, file('libc.c', '#include <stdio.h>\n')],
      /^solo5-build: compiling .*libc\.c failed: .*stdio\.h: No such file/,
    ],
    [
      'no solo5_app_main',
      ['-m', mft, '-o', out, file('nomain.c', 'int unused;\n')],
      /^solo5-build: linking .*bad\.spt failed: .*undefined reference to `solo5_app_main'/,
    ],
    [
      'libc call',
      ['-m', mft, '-o', out, file('printf.c', 'int printf(const char *, ...);\nint solo5_app_main(void *s) { return printf("x"); }\n')],
      /undefined reference to `printf'/,
    ],
  ];
  for (const [what, args, message] of cases) {
    await tt.test(what, async (ct) => {
      failsWith(ct, build(...args), message);
      ct.notOk(existsSync(out), 'no output file left behind');
    });
  }
});

t.test('--cflag reaches the compiler; --help and --version', { skip }, async (tt) => {
  const src = file('flag.c', '#ifndef WANTED\n#error WANTED not defined\n#endif\n' + APP_C);
  const mft = file('flag.json', JSON.stringify(MANIFEST));
  failsWith(tt, build('-m', mft, '-o', join(dir, 'flag.spt'), src), /WANTED not defined/);
  tt.equal(build('-m', mft, '-o', join(dir, 'flag.spt'), '--cflag=-DWANTED', src).code, 0, 'builds with -DWANTED');

  const help = build('--help');
  tt.equal(help.code, 0);
  tt.match(help.out, /^usage: solo5-build /);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  tt.equal(build('--version').out, `solo5-build ${pkg.version}\n`);
});

t.test('buildUnikernel: typed errors through the API', { skip }, async (tt) => {
  const src = file('api.c', APP_C);
  const mft = file('api.json', JSON.stringify(MANIFEST));
  const output = join(dir, 'api', 'nested', 'api.spt');
  await buildUnikernel({ target: 'spt', manifest: mft, sources: [src], output });
  tt.ok(existsSync(output), 'creates the output directory');

  await tt.rejects(buildUnikernel({ target: 'spt', manifest: mft, sources: [], output }), UsageError);
  await tt.rejects(
    buildUnikernel({ target: 'xen' as 'spt', manifest: mft, sources: [src], output }),
    new UsageError('target "xen" is not supported (spt or hvt or virtio)'),
  );
  await tt.rejects(
    buildUnikernel({ target: 'hvt', abi: 'solo5-v2' as 'solo5', manifest: mft, sources: [src], output }),
    new UsageError('ABI "solo5-v2" is not supported (ring, solo5, solo5-v1)'),
  );
  await tt.rejects(buildUnikernel({ target: 'spt', manifest: file('bad.json', '[]'), sources: [src], output }), ManifestError);
  await tt.rejects(buildUnikernel({ target: 'spt', manifest: mft, sources: [file('e.c', 'oops')], output }), HostError);

  const lines: string[] = [];
  mkdirSync(join(dir, 'log'), { recursive: true });
  await buildUnikernel({ target: 'spt', manifest: mft, sources: [src], output: join(dir, 'log', 'x.spt'), log: (m) => lines.push(m) });
  tt.ok(
    lines.some((l) => l.includes('gen-manifest')),
    'log shows the gen-manifest step',
  );
  tt.ok(
    lines.some((l) => l.includes('spt.ld')),
    'log shows the link with the linker script',
  );
});

/*
 * --abi=solo5|solo5-v1 --target=hvt: upstream's hvt image, read back with
 * readelf and the project's own ELF reader. Upstream's layout: PT_INTERP,
 * text at 1 MiB marked execute-only, rodata with the notes, data, then (ABI
 * 2 only) a read-only tdata segment, PT_TLS and a bss segment without file
 * bytes, then one PT_NOTE per note.
 */
const HVT_LAYOUTS = {
  solo5: {
    version: 2,
    loads: ['E', 'R', 'RW', 'R', 'RW'],
    types: ['INTERP', 'LOAD', 'LOAD', 'LOAD', 'LOAD', 'TLS', 'LOAD', 'NOTE', 'NOTE', 'NOTE'],
  },
  'solo5-v1': { version: 1, loads: ['E', 'R', 'RW'], types: ['INTERP', 'LOAD', 'LOAD', 'LOAD', 'NOTE', 'NOTE', 'NOTE'] },
} as const;

for (const [abi, want] of Object.entries(HVT_LAYOUTS)) {
  t.test(`--abi=${abi} --target=hvt: upstream's hvt image`, { skip }, async (tt) => {
    const out = join(dir, `${abi}.hvt`);
    const r = build(
      `--abi=${abi}`,
      '--target=hvt',
      '-m',
      file(`${abi}-hvt.json`, JSON.stringify(MANIFEST)),
      '-o',
      out,
      file(`${abi}-hvt.c`, APP_C),
    );
    tt.equal(r.code, 0, `solo5-build succeeds: ${r.err}`);
    const buf = readFileSync(out);

    const segs = readelf('-l', out);
    const types = [...segs.matchAll(/^\s{2}([A-Z_]+)\s+0x/gm)].map((m) => m[1]);
    tt.same(types, want.types, "program headers in upstream's order");
    const loads = [
      ...segs.matchAll(/^\s*LOAD\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+([RWE ]+?)\s+0x/gm),
    ];
    tt.same(
      loads.map((m) => m[3].replace(/\s/g, '')),
      want.loads,
      'PT_LOAD flags: text execute-only, rodata R, data RW (ABI 2: tdata R, bss RW)',
    );
    tt.equal(loads[0][1], '0x0000000000100000', 'text at 1 MiB');
    tt.match(
      segs,
      /INTERP\s+0x001000 0x0000000000100000 0x0000000000100000 0x000018 0x000018 R\s+0x8\n\s+\[Requesting program interpreter: \/nonexistent\/solo5\/\]/,
      "PT_INTERP: Solo5's 24 bytes, first in text",
    );
    const mapping = segs.slice(segs.indexOf('Section to Segment mapping'));
    const order = [...mapping.matchAll(/^\s*\d+\s+(\.note\.solo5\.\w+)\s*$/gm)].map((m) => m[1]);
    tt.same(order, ['.note.solo5.not_openbsd', '.note.solo5.abi', '.note.solo5.manifest'], 'one note per PT_NOTE, not_openbsd first');

    // The ABI1 note, byte for byte: namesz 6, descsz 16, "ABI1", "Solo5" padded to 8, target 1 (hvt), version, 0, 0.
    const abiBin = join(dir, `${abi}-abi.bin`);
    execFileSync('objcopy', ['-O', 'binary', '--only-section=.note.solo5.abi', out, abiBin]);
    const expected = Buffer.alloc(36);
    [6, 16, 0x31494241].forEach((v, i) => expected.writeUInt32LE(v, 4 * i));
    expected.write('Solo5', 12, 'latin1');
    expected.writeUInt32LE(1, 20);
    expected.writeUInt32LE(want.version, 24);
    tt.same(readFileSync(abiBin), expected, 'ABI1 note bytes');

    tt.same(queryAbi(buf, out).abi, { kind: 'solo5', target: 'hvt', version: want.version }, 'lib/elf reads a Solo5 hvt ABI note');
    tt.same(queryManifest(buf, out), MANIFEST, 'lib/elf reads the manifest back');
    const elf = parseElf(buf, out, { memSize: 512 << 20, tender: 'hvt' });
    const start = readelf('-s', out).match(/([0-9a-f]{16})\s+\d+\s+FUNC\s+GLOBAL\s+DEFAULT\s+\d+\s+_start$/m);
    tt.equal(elf.entry, parseInt(start?.[1] ?? '0', 16), 'e_entry is _start');
    tt.ok(elf.entry >= 0x100000 && elf.entry < elf.segments[0].vaddr + elf.segments[0].memsz, 'the entry lies in text');
    tt.same(elf.segments[0].prot, { r: false, w: false, x: true }, 'lib/elf sees text execute-only');
  });
}
