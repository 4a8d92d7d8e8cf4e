// elftool.test.ts: the solo5-elftool CLI run as a child process: commands, outputs, exit codes, start-up cost.
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildElf, buildSolo5Elf, DEFAULT_MANIFEST, PF_R, PF_X, setEh } from './support/elf-builder.js';

const ROOT = join(__dirname, '..', '..');
const TOOL = join(ROOT, 'dist', 'bin', 'solo5-elftool.js');
const dir = mkdtempSync(join(tmpdir(), 'sn-elftool-'));

function run(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [TOOL, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** An error is one line on stderr, nothing on stdout, exit 1. */
function failsWith(t: Test, r: ReturnType<typeof run>, message: string | RegExp): void {
  t.equal(r.code, 1, 'exit 1');
  t.equal(r.out, '', 'nothing on stdout');
  t.equal(r.err.split('\n').length, 2, 'one line on stderr');
  t.match(r.err, message);
}

const file = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

t.test('--help and --version', async (t) => {
  const help = run('--help');
  t.equal(help.code, 0);
  t.match(help.out, /gen-manifest MANIFEST\.json OUTPUT\.c/);
  t.match(help.out, /query-abi ELF/);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const version = run('--version');
  t.equal(version.code, 0);
  t.equal(version.out, `solo5-elftool ${pkg.version}\n`);
});

t.test('usage errors', async (t) => {
  failsWith(t, run(), /^solo5-elftool: missing command/);
  failsWith(t, run('frobnicate'), /^solo5-elftool: unknown command "frobnicate"/);
  failsWith(t, run('gen-manifest', 'only-one.json'), /^solo5-elftool: gen-manifest: expected MANIFEST\.json OUTPUT\.c/);
  failsWith(t, run('query-abi'), /^solo5-elftool: query-abi: expected ELF/);
  failsWith(t, run('query-manifest', 'a', 'b'), /^solo5-elftool: query-manifest: expected ELF/);
});

t.test('gen-manifest writes C source, refuses bad manifests', async (t) => {
  const good = file('good.json', JSON.stringify(DEFAULT_MANIFEST));
  const r = run('gen-manifest', good, 'out.c');
  t.equal(r.code, 0, r.err);
  const c = readFileSync(join(dir, 'out.c'), 'utf8');
  t.match(c, /section\("\.note\.solo5\.manifest"\)/);
  t.match(c, /entry 2: "storage" BLOCK_BASIC/);

  const devices = Array.from({ length: 64 }, (_, i) => ({ name: `n${i}`, type: 'NET_BASIC' }));
  failsWith(
    t,
    run('gen-manifest', file('many.json', JSON.stringify({ ...DEFAULT_MANIFEST, devices })), 'x.c'),
    /many\.json: devices: too many entries, maximum 63/,
  );
  failsWith(
    t,
    run('gen-manifest', file('key.json', JSON.stringify({ ...DEFAULT_MANIFEST, extra: 1 })), 'x.c'),
    /key\.json: extra: unknown key/,
  );
  failsWith(t, run('gen-manifest', file('bad.json', '{'), 'x.c'), /bad\.json: invalid JSON/);
  failsWith(t, run('gen-manifest', 'missing.json', 'x.c'), /^solo5-elftool: missing\.json: cannot open: No such file or directory$/m);
  failsWith(t, run('gen-manifest', good, join(dir, 'no', 'such', 'dir.c')), /dir\.c: cannot write: No such file or directory/);
});

t.test('query-abi and query-manifest read the notes', async (t) => {
  const spt = file('guest.spt', buildElf().buf);
  const abi = run('query-abi', spt);
  t.equal(abi.code, 0, abi.err);
  t.equal(abi.out, '{"type":"solo5.abi","target":"spt","version":1001}\n');
  const hvt = file('guest.hvt', buildElf({ abi: { target: 1, version: 1001 } }).buf);
  t.equal(run('query-abi', hvt).out, '{"type":"solo5.abi","target":"hvt","version":1001}\n');
  const mft = run('query-manifest', spt);
  t.equal(mft.code, 0, mft.err);
  t.equal(mft.out, `${JSON.stringify(DEFAULT_MANIFEST, null, 2)}\n`);
});

t.test("query-abi and query-manifest read any well-formed Solo5 unikernel, in Solo5's layouts too", async (t) => {
  const cases: [string, Buffer, string][] = [
    ['v2.spt', buildSolo5Elf(2).buf, '{"type":"solo5.abi","target":"spt","version":2}'],
    ['v1.spt', buildSolo5Elf(1).buf, '{"type":"solo5.abi","target":"spt","version":1}'],
    ['up.hvt', buildElf({ abi: { target: 1, version: 2 }, noteSegments: 'each' }).buf, '{"type":"solo5.abi","target":"hvt","version":2}'],
    ['app.virtio', buildElf({ abi: { target: 3, version: 1 } }).buf, '{"type":"solo5.abi","target":"virtio","version":1}'],
    [
      'app.xen',
      buildElf({ abi: { target: 6, version: 1 }, segments: [{ vaddr: 0x1000, data: Buffer.alloc(8), flags: PF_R | PF_X }] }).buf,
      '{"type":"solo5.abi","target":"xen","version":1}',
    ],
    ['future.spt', buildElf({ abi: { target: 2, version: 3 } }).buf, '{"type":"solo5.abi","target":"spt","version":3}'],
  ];
  for (const [name, buf, json] of cases) {
    const f = file(name, buf);
    const a = run('query-abi', f);
    t.equal(a.code, 0, `${name}: ${a.err}`);
    t.equal(a.out, `${json}\n`, `${name}: query-abi`);
    const m = run('query-manifest', f);
    t.equal(m.code, 0, `${name}: ${m.err}`);
    t.same(JSON.parse(m.out), DEFAULT_MANIFEST, `${name}: query-manifest`);
  }
});

t.test('lying note sizes in either layout: one line, exit 1', async (t) => {
  for (const each of [false, true]) {
    const e = buildElf({ noteSegments: each ? 'each' : 'shared' });
    const mftHeader = e.noteHeaders[e.noteHeaders.length - 1];
    e.buf.writeUInt32LE(0x7ffffff0, mftHeader + 4);
    const r = run('query-manifest', file(`lie-${String(each)}.spt`, e.buf));
    failsWith(
      t,
      r,
      /^solo5-elftool: .*lie-(true|false)\.spt: program header \d+ \(PT_NOTE\): note at offset 0x[0-9a-f]+: descsz 2147483632 runs past the end of the note area$/m,
    );
    t.equal(r.err.split('\n').filter((l) => l !== '').length, 1, 'one line');
  }
});

t.test('every command that reads a user file refuses devices, FIFOs and huge files', async (t) => {
  const fifo = join(dir, 'fifo.json');
  execFileSync('mkfifo', [fifo]);
  failsWith(t, run('gen-manifest', fifo, 'x.c'), /^solo5-elftool: .*fifo\.json: not a regular file$/m);
  failsWith(t, run('gen-manifest', '/dev/zero', 'x.c'), /^solo5-elftool: \/dev\/zero: not a regular file$/m);
  failsWith(t, run('query-abi', '/dev/zero'), /^solo5-elftool: \/dev\/zero: not a regular file$/m);
  failsWith(t, run('query-manifest', fifo), /^solo5-elftool: .*fifo\.json: not a regular file$/m);
  const big = join(dir, 'big.json');
  writeFileSync(big, '');
  truncateSync(big, 2 << 20);
  failsWith(t, run('gen-manifest', big, 'x.c'), /^solo5-elftool: .*big\.json: 2097152 bytes, larger than the 1048576-byte limit$/m);
});

t.test('query commands on broken files fail with one line', async (t) => {
  failsWith(t, run('query-abi', 'nonexistent.spt'), /^solo5-elftool: nonexistent\.spt: cannot open: No such file or directory$/m);
  const e = buildElf();
  setEh(e, 'machine', 3);
  failsWith(t, run('query-manifest', file('i386.spt', e.buf)), /i386\.spt: e_machine 3, expected EM_X86_64 \(62\)/);
  failsWith(t, run('query-abi', file('plain.spt', buildElf({ notes: [] }).buf)), /plain\.spt: no ABI1 note \(not a Solo5 unikernel\?\)/);
});

t.test('query commands do not load zod', async (t) => {
  const spt = file('lazy.spt', buildElf().buf);
  const script = `const m = require(${JSON.stringify(join(ROOT, 'dist', 'lib', 'cli', 'elftool.js'))});
m.main(['query-manifest', ${JSON.stringify(spt)}]).then((c) => {
  process.stderr.write(String(Object.keys(require.cache).filter((k) => k.includes('/node_modules/zod/')).length));
  process.exitCode = c;
});`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  t.equal(r.status, 0);
  t.equal(r.stderr, '0', 'no zod module in the require cache');
});

function have(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

t.test(
  'a unikernel linked by gcc round-trips through gen-manifest and query-manifest',
  { skip: !have('gcc') && 'needs gcc' },
  async (t) => {
    const manifest = {
      type: 'solo5.manifest',
      version: 1,
      devices: [
        { name: 'net0', type: 'NET_BASIC' },
        { name: 'disk', type: 'BLOCK_BASIC' },
      ],
    };
    t.equal(run('gen-manifest', file('app.json', JSON.stringify(manifest)), 'manifest.c').code, 0);
    // A stand-in for the bindings: the ABI1 note, some text and some data, linked at the guest base.
    file(
      'start.c',
      `struct abi_note { unsigned int namesz, descsz, type; char name[8]; unsigned int target, version, reserved0, reserved1; };
__attribute__((section(".note.solo5.abi"), aligned(4), used))
static const struct abi_note abi = { 6, 16, 0x31494241U, "Solo5", 2, 2, 0, 0 };
int counter = 5;
void _start(void) { for (;;) counter++; }
`,
    );
    execFileSync(
      'gcc',
      [
        '-O2',
        '-static',
        '-nostdlib',
        '-no-pie',
        '-fno-pic',
        '-Wl,-Ttext-segment=0x100000',
        '-Wl,-z,max-page-size=0x1000',
        '-Wl,-z,noexecstack',
        '-Wl,--build-id',
        '-o',
        'app.spt',
        'start.c',
        'manifest.c',
      ],
      { cwd: dir },
    );
    const q = run('query-manifest', 'app.spt');
    t.equal(q.code, 0, q.err);
    t.same(JSON.parse(q.out), manifest);
    t.equal(run('query-abi', 'app.spt').out, '{"type":"solo5.abi","target":"spt","version":2}\n');
  },
);
