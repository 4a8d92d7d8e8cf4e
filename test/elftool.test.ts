// elftool.test.ts: the solo5-elftool CLI run as a child process: commands, outputs, exit codes, start-up cost.
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildElf, DEFAULT_MANIFEST, setEh } from './support/elf-builder.js';

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
  failsWith(t, run('gen-manifest', file('many.json', JSON.stringify({ ...DEFAULT_MANIFEST, devices })), 'x.c'), /many\.json: devices: too many entries, maximum 63/);
  failsWith(t, run('gen-manifest', file('key.json', JSON.stringify({ ...DEFAULT_MANIFEST, extra: 1 })), 'x.c'), /key\.json: extra: unknown key/);
  failsWith(t, run('gen-manifest', file('bad.json', '{'), 'x.c'), /bad\.json: invalid JSON/);
  failsWith(t, run('gen-manifest', 'missing.json', 'x.c'), /^solo5-elftool: missing\.json: cannot read: ENOENT$/m);
  failsWith(t, run('gen-manifest', good, join(dir, 'no', 'such', 'dir.c')), /dir\.c: cannot write: ENOENT/);
});

t.test('query-abi and query-manifest read the notes', async (t) => {
  const spt = file('guest.spt', buildElf().buf);
  const abi = run('query-abi', spt);
  t.equal(abi.code, 0, abi.err);
  t.equal(abi.out, '{"type":"solo5.abi","target":"spt","version":1}\n');
  const hvt = file('guest.hvt', buildElf({ abi: { target: 1, version: 1 } }).buf);
  t.equal(run('query-abi', hvt).out, '{"type":"solo5.abi","target":"hvt","version":1}\n');
  const mft = run('query-manifest', spt);
  t.equal(mft.code, 0, mft.err);
  t.equal(mft.out, `${JSON.stringify(DEFAULT_MANIFEST, null, 2)}\n`);
});

t.test('query commands on broken files fail with one line', async (t) => {
  failsWith(t, run('query-abi', 'nonexistent.spt'), /^solo5-elftool: nonexistent\.spt: cannot open: ENOENT$/m);
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

t.test('a unikernel linked by gcc round-trips through gen-manifest and query-manifest', { skip: !have('gcc') && 'needs gcc' }, async (t) => {
  const manifest = { type: 'solo5.manifest', version: 1, devices: [{ name: 'net0', type: 'NET_BASIC' }, { name: 'disk', type: 'BLOCK_BASIC' }] };
  t.equal(run('gen-manifest', file('app.json', JSON.stringify(manifest)), 'manifest.c').code, 0);
  // A stand-in for the bindings: the ABI1 note, some text and some data, linked at the guest base.
  file('start.c', `struct abi_note { unsigned int namesz, descsz, type; char name[8]; unsigned int target, version; };
__attribute__((section(".note.solo5.abi"), aligned(4), used))
static const struct abi_note abi = { 6, 8, 0x31494241U, "Solo5", 2, 1 };
int counter = 5;
void _start(void) { for (;;) counter++; }
`);
  execFileSync('gcc', ['-O2', '-static', '-nostdlib', '-no-pie', '-fno-pic', '-Wl,-Ttext-segment=0x100000', '-Wl,-z,max-page-size=0x1000',
    '-Wl,-z,noexecstack', '-Wl,--build-id', '-o', 'app.spt', 'start.c', 'manifest.c'], { cwd: dir });
  const q = run('query-manifest', 'app.spt');
  t.equal(q.code, 0, q.err);
  t.same(JSON.parse(q.out), manifest);
  t.equal(run('query-abi', 'app.spt').out, '{"type":"solo5.abi","target":"spt","version":1}\n');
});
