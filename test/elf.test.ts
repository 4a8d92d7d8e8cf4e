// elf.test.ts: the ELF loader accepts valid unikernel images and refuses each malformed one with its one-line error.
import t from 'tap';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfError, ManifestError } from '../lib/errors.js';
import { loadElf, parseElf } from '../lib/elf/index.js';
import { SN_ABI_VERSION, type Target } from '../lib/abi.js';
import {
  ABI1,
  DATA_ADDR,
  DEFAULT_MANIFEST,
  MFT1,
  PF_R,
  PF_W,
  PF_X,
  TEXT_ADDR,
  abiDesc,
  buildElf,
  buildSolo5Elf,
  mftDesc,
  setEh,
  setPh,
  type BuildOptions,
  type BuiltElf,
} from './support/elf-builder.js';

const MEM = 32 * 1024 * 1024;
const F = 'guest.spt';

t.test('a valid image yields segments, entry, kernel end, ABI and manifest', async (t) => {
  const e = buildElf();
  const elf = parseElf(e.buf, F, { memSize: MEM, tender: 'spt' });
  t.equal(elf.file, F);
  t.equal(elf.entry, TEXT_ADDR);
  t.same(elf.abi, { kind: 'ring', target: 'spt', version: SN_ABI_VERSION });
  t.same(elf.abiNote, { target: 2, version: SN_ABI_VERSION });
  t.same(elf.manifest, DEFAULT_MANIFEST);
  t.equal(elf.segments.length, 2);
  const [text, data] = elf.segments;
  t.same(text.prot, { r: true, w: false, x: true });
  t.same(data.prot, { r: true, w: true, x: false });
  t.equal(data.vaddr, DATA_ADDR);
  t.equal(data.memsz, 0x1800);
  t.equal(data.filesz, 16);
  t.equal(data.data.toString('latin1'), 'initialised data');
  t.equal(elf.kernelEnd, DATA_ADDR + 0x2000, 'end of bss rounded up to a page');
  data.data[0] = 0;
  t.equal(e.buf.includes('initialised data'), true, 'segment data is a copy');
});

t.test('hvt target, no interpreter, segments given out of order', async (t) => {
  const e = buildElf({
    abi: { target: 1, version: SN_ABI_VERSION },
    interp: false,
    segments: [
      { vaddr: 0x300000, data: Buffer.alloc(8), memsz: 0x10, flags: PF_R | PF_W },
      { vaddr: 0x200000, data: Buffer.alloc(64, 0xcc), flags: PF_R | PF_X },
    ],
    entry: 0x200010,
  });
  const elf = parseElf(e.buf, F, { memSize: MEM, tender: 'hvt' });
  t.equal(elf.abi.target, 'hvt');
  t.same(
    elf.segments.map((s) => s.vaddr),
    [0x200000, 0x300000],
  );
  t.equal(elf.kernelEnd, 0x301000);
});

t.test("other owners' notes and zero-size PT_LOADs are ignored", async (t) => {
  const e = buildElf({
    notes: [
      { owner: 'GNU', type: 3, desc: Buffer.alloc(20, 1) },
      { owner: 'Solo5', type: ABI1, desc: abiDesc() },
      { owner: 'Solo5', type: 0x12345678, desc: Buffer.alloc(3) },
      { owner: 'Solo5', type: MFT1, desc: mftDesc({ type: 'solo5.manifest', version: 1, devices: [] }) },
    ],
    segments: [
      { vaddr: TEXT_ADDR, data: Buffer.alloc(16), flags: PF_R | PF_X },
      { vaddr: 0x500000, data: Buffer.alloc(0), flags: PF_R },
    ],
  });
  const elf = parseElf(e.buf, F, { memSize: MEM, tender: 'spt' });
  t.equal(elf.segments.length, 1);
  t.same(elf.manifest.devices, []);
});

interface Bad {
  name: string;
  opts?: BuildOptions;
  mutate?: (e: BuiltElf) => void;
  memSize?: number;
  error: string;
  kind?: typeof ElfError | typeof ManifestError;
  tender?: Target;
}

const cases: Bad[] = [
  { name: 'empty file', mutate: (e) => (e.buf = e.buf.subarray(0, 0)), error: 'truncated: 0 bytes, an ELF64 header needs 64' },
  { name: 'truncated header', mutate: (e) => (e.buf = e.buf.subarray(0, 40)), error: 'truncated: 40 bytes, an ELF64 header needs 64' },
  { name: 'bad magic', mutate: (e) => (e.buf[1] = 0x45 + 1), error: 'not an ELF file (bad magic)' },
  { name: 'ELF32', mutate: (e) => setEh(e, 'class', 1), error: 'not a 64-bit ELF (EI_CLASS 1)' },
  { name: 'big-endian', mutate: (e) => setEh(e, 'data', 2), error: 'not little-endian (EI_DATA 2)' },
  { name: 'EI_VERSION', mutate: (e) => setEh(e, 'identVersion', 0), error: 'EI_VERSION 0, expected 1' },
  { name: 'PIE', mutate: (e) => setEh(e, 'type', 3), error: 'e_type 3 (position-independent or shared object), expected ET_EXEC (2)' },
  { name: 'relocatable', mutate: (e) => setEh(e, 'type', 1), error: 'e_type 1, expected ET_EXEC (2)' },
  { name: 'aarch64', mutate: (e) => setEh(e, 'machine', 183), error: 'e_machine 183, expected EM_X86_64 (62)' },
  { name: 'e_version', mutate: (e) => setEh(e, 'version', 2), error: 'e_version 2, expected 1' },
  { name: 'e_ehsize', mutate: (e) => setEh(e, 'ehsize', 52), error: 'e_ehsize 52, expected 64' },
  { name: 'e_phentsize', mutate: (e) => setEh(e, 'phentsize', 32), error: 'e_phentsize 32, expected 56' },
  { name: 'no program headers', mutate: (e) => setEh(e, 'phnum', 0), error: 'no program headers' },
  { name: 'PN_XNUM', mutate: (e) => setEh(e, 'phnum', 0xffff), error: 'e_phnum 65535, at most 64 supported' },
  {
    name: 'program header table past EOF',
    mutate: (e) => setEh(e, 'phoff', e.buf.length - 10),
    error: 'program header table (e_phoff 0x2006, 4 entries) runs past the end of the file (8208 bytes)',
  },
  {
    name: 'e_phoff near 2^64 does not wrap',
    mutate: (e) => setEh(e, 'phoff', 0xffffffffffffffffn),
    error: 'program header table (e_phoff 0xffffffffffffffff, 4 entries) runs past the end of the file (8208 bytes)',
  },
  {
    name: 'filesz > memsz',
    mutate: (e) => setPh(e, e.ph.loads[1], 'memsz', 8),
    error: 'program header 2 (PT_LOAD): p_filesz 0x10 > p_memsz 0x8',
  },
  {
    name: 'PT_LOAD past EOF',
    mutate: (e) => setPh(e, e.ph.loads[1], 'offset', e.buf.length - 4),
    error: 'program header 2 (PT_LOAD): file range 0x200c+0x10 runs past the end of the file (8208 bytes)',
  },
  {
    name: 'PT_LOAD offset+filesz overflowing 64 bits',
    mutate: (e) => {
      setPh(e, e.ph.loads[1], 'offset', 0xfffffffffffffff0n);
      setPh(e, e.ph.loads[1], 'filesz', 0x20);
      setPh(e, e.ph.loads[1], 'memsz', 0x20);
    },
    error: 'program header 2 (PT_LOAD): file range 0xfffffffffffffff0+0x20 runs past the end of the file (8208 bytes)',
  },
  {
    name: 'p_align 0',
    mutate: (e) => setPh(e, e.ph.loads[0], 'align', 0),
    error: 'program header 1 (PT_LOAD): p_align 0x0 is not a power of two >= 0x1000',
  },
  {
    name: 'p_align not a power of two',
    mutate: (e) => setPh(e, e.ph.loads[0], 'align', 0x3000),
    error: 'program header 1 (PT_LOAD): p_align 0x3000 is not a power of two >= 0x1000',
  },
  {
    name: 'p_align too small',
    mutate: (e) => setPh(e, e.ph.loads[0], 'align', 16),
    error: 'program header 1 (PT_LOAD): p_align 0x10 is not a power of two >= 0x1000',
  },
  {
    name: 'below guest base',
    opts: { segments: [{ vaddr: 0xff000, data: Buffer.alloc(16), flags: PF_R | PF_X }] },
    error: 'program header 1 (PT_LOAD): p_vaddr 0xff000 is below the guest base 0x100000',
  },
  {
    name: 'beyond guest memory',
    memSize: 0x101000,
    error: 'program header 2 (PT_LOAD): ends at 0x103800, beyond guest memory (0x101000 bytes)',
  },
  {
    name: 'vaddr+memsz wrapping 2^64',
    mutate: (e) => {
      setPh(e, e.ph.loads[1], 'vaddr', 0xfffffffffffff000n);
      setPh(e, e.ph.loads[1], 'memsz', 0x2000);
    },
    error: 'program header 2 (PT_LOAD): ends at 0x10000000000001000, beyond guest memory (0x2000000 bytes)',
  },
  {
    name: 'writable and executable',
    mutate: (e) => setPh(e, e.ph.loads[0], 'flags', PF_R | PF_W | PF_X),
    error: 'program header 1 (PT_LOAD): segment is both writable and executable',
  },
  {
    name: 'overlapping segments',
    mutate: (e) => setPh(e, e.ph.loads[1], 'vaddr', TEXT_ADDR + 0x100),
    error: 'program headers 1 and 2 (PT_LOAD) overlap once rounded to 4096-byte pages',
  },
  {
    name: 'segments sharing a page',
    opts: {
      segments: [
        { vaddr: TEXT_ADDR, data: Buffer.alloc(0x100), flags: PF_R | PF_X },
        { vaddr: TEXT_ADDR + 0x800, data: Buffer.alloc(0x10), flags: PF_R | PF_W },
      ],
    },
    error: 'program headers 1 and 2 (PT_LOAD) overlap once rounded to 4096-byte pages',
  },
  {
    name: 'no PT_LOAD',
    mutate: (e) => {
      for (const i of e.ph.loads) setPh(e, i, 'type', 0x6474e551);
    },
    error: 'no PT_LOAD segment',
  },
  {
    name: 'too many PT_LOADs',
    opts: {
      segments: Array.from({ length: 9 }, (_, i) => ({ vaddr: TEXT_ADDR + i * 0x1000, data: Buffer.alloc(8), flags: PF_R | PF_X })),
    },
    error: '9 PT_LOAD segments, at most 8 supported',
  },
  {
    name: 'entry outside every segment',
    opts: { entry: 0x4000000 },
    error: 'entry point 0x4000000 is not inside an executable PT_LOAD segment',
  },
  { name: 'entry in data', opts: { entry: DATA_ADDR + 4 }, error: 'entry point 0x102004 is not inside an executable PT_LOAD segment' },
  {
    name: 'PT_NOTE past EOF',
    mutate: (e) => setPh(e, e.ph.note, 'filesz', e.buf.length),
    error: 'program header 3 (PT_NOTE): file range 0x138+0x2010 runs past the end of the file (8208 bytes)',
  },
  {
    name: 'note header truncated',
    mutate: (e) => setPh(e, e.ph.note, 'filesz', 8),
    error: 'program header 3 (PT_NOTE): note at offset 0x0: truncated note header',
  },
  {
    name: 'namesz lies',
    mutate: (e) => e.buf.writeUInt32LE(0xfffffff0, e.noteHeaders[1]),
    error: 'program header 3 (PT_NOTE): note at offset 0x24: namesz 4294967280 runs past the end of the note area',
  },
  {
    name: 'descsz lies',
    mutate: (e) => e.buf.writeUInt32LE(0xffffffff, e.noteHeaders[0] + 4),
    error: 'program header 3 (PT_NOTE): note at offset 0x0: descsz 4294967295 runs past the end of the note area',
  },
  { name: 'no notes at all', opts: { notes: [] }, error: 'no ABI1 note (not a Solo5 unikernel?)' },
  {
    name: 'no MFT1 note',
    opts: { notes: [{ owner: 'Solo5', type: ABI1, desc: abiDesc() }] },
    error: 'no MFT1 note (not a Solo5 unikernel?)',
  },
  {
    name: 'ABI1 from another owner does not count',
    opts: { notes: [{ owner: 'Solo6', type: ABI1, desc: abiDesc() }] },
    error: 'no ABI1 note (not a Solo5 unikernel?)',
  },
  {
    name: 'two ABI1 notes',
    opts: {
      notes: [
        { owner: 'Solo5', type: ABI1, desc: abiDesc() },
        { owner: 'Solo5', type: ABI1, desc: abiDesc() },
        { owner: 'Solo5', type: MFT1, desc: mftDesc(DEFAULT_MANIFEST) },
      ],
    },
    error: '2 ABI1 notes, expected exactly one',
  },
  {
    name: 'two MFT1 notes',
    opts: {
      notes: [
        { owner: 'Solo5', type: ABI1, desc: abiDesc() },
        { owner: 'Solo5', type: MFT1, desc: mftDesc(DEFAULT_MANIFEST) },
        { owner: 'Solo5', type: MFT1, desc: mftDesc(DEFAULT_MANIFEST) },
      ],
    },
    error: '2 MFT1 notes, expected exactly one',
  },
  {
    name: 'a virtio unikernel',
    opts: { abi: { target: 3, version: 1 } },
    error: 'built for Solo5 virtio ABI version 1; this solo5-spt runs Solo5 spt ABI 1 and 2 and solo5-node ring ABI 1001',
  },
  {
    name: 'an unknown target',
    opts: { abi: { target: 77, version: 1 } },
    error: 'built for unknown Solo5 target 77 (ABI version 1); this solo5-spt runs Solo5 spt ABI 1 and 2 and solo5-node ring ABI 1001',
  },
  {
    name: 'a future Solo5 spt ABI',
    opts: { abi: { target: 2, version: 3 } },
    error: 'built for Solo5 spt ABI version 3; this solo5-spt runs Solo5 spt ABI 1 and 2 and solo5-node ring ABI 1001',
  },
  {
    name: 'a ring hvt unikernel on spt',
    opts: { abi: { target: 1, version: SN_ABI_VERSION } },
    error:
      'built for solo5-node ring ABI 1001 for hvt; this solo5-spt runs Solo5 spt ABI 1 and 2 and solo5-node ring ABI 1001 (run it with solo5-hvt)',
  },
  {
    name: 'a ring spt unikernel on hvt',
    tender: 'hvt',
    error:
      'built for solo5-node ring ABI 1001 for spt; this solo5-hvt runs Solo5 hvt ABI 1 and 2 and solo5-node ring ABI 1001 (run it with solo5-spt)',
  },
  {
    name: 'a Solo5 spt unikernel on hvt',
    tender: 'hvt',
    opts: { abi: { target: 2, version: 2 } },
    error:
      'built for Solo5 spt ABI version 2; this solo5-hvt runs Solo5 hvt ABI 1 and 2 and solo5-node ring ABI 1001 (run it with solo5-spt)',
  },
  {
    name: 'a future Solo5 hvt ABI',
    tender: 'hvt',
    opts: { abi: { target: 1, version: 3 } },
    error: 'built for Solo5 hvt ABI version 3; this solo5-hvt runs Solo5 hvt ABI 1 and 2 and solo5-node ring ABI 1001',
  },
  {
    name: 'an upstream hvt unikernel on spt',
    opts: { abi: { target: 1, version: 2 } },
    error:
      'built for Solo5 hvt ABI version 2; this solo5-spt runs Solo5 spt ABI 1 and 2 and solo5-node ring ABI 1001 (run it with solo5-hvt)',
  },
  {
    name: "an 8-byte ABI1 descriptor (solo5-node before Solo5's layout)",
    opts: {
      notes: [
        { owner: 'Solo5', type: ABI1, desc: abiDesc().subarray(0, 8) },
        { owner: 'Solo5', type: MFT1, desc: mftDesc(DEFAULT_MANIFEST) },
      ],
    },
    error: "ABI1 note: descriptor is 8 bytes, Solo5's is 16 (at most 32); rebuild it: solo5-node now writes Solo5's note layout",
  },
  {
    name: 'an ABI1 descriptor over 32 bytes',
    opts: {
      notes: [
        { owner: 'Solo5', type: ABI1, desc: Buffer.concat([abiDesc(), Buffer.alloc(20)]) },
        { owner: 'Solo5', type: MFT1, desc: mftDesc(DEFAULT_MANIFEST) },
      ],
    },
    error: "ABI1 note: descriptor is 36 bytes, Solo5's is 16 (at most 32)",
  },
  {
    name: 'an MFT1 descriptor of only its padding',
    opts: {
      notes: [
        { owner: 'Solo5', type: ABI1, desc: abiDesc() },
        { owner: 'Solo5', type: MFT1, desc: Buffer.alloc(4) },
      ],
    },
    error: 'MFT1 note: descriptor is 4 bytes, expected 5 to 6668',
  },
  {
    name: 'an MFT1 descriptor without its padding',
    opts: {
      notes: [
        { owner: 'Solo5', type: ABI1, desc: abiDesc() },
        { owner: 'Solo5', type: MFT1, desc: mftDesc(DEFAULT_MANIFEST).subarray(4) },
      ],
    },
    error: 'MFT1 note: version 3, expected 1',
    kind: ManifestError,
  },
  {
    name: 'ABI1 short descriptor',
    opts: {
      notes: [
        { owner: 'Solo5', type: ABI1, desc: Buffer.alloc(4) },
        { owner: 'Solo5', type: MFT1, desc: mftDesc(DEFAULT_MANIFEST) },
      ],
    },
    error: "ABI1 note: descriptor is 4 bytes, Solo5's is 16 (at most 32)",
  },
  {
    name: 'MFT1 pre-attached device',
    mutate: (e) => {
      const desc = e.noteHeaders[1] + 12 + 8;
      e.buf[desc + 4 + 8 + 104 * 2 + 96] = 1;
    },
    error: 'MFT1 note: entry 2: attached is set (must be 0 in the ELF)',
    kind: ManifestError,
  },
];

for (const c of cases) {
  t.test(`refuses: ${c.name}`, async (t) => {
    const e = buildElf(c.opts);
    c.mutate?.(e);
    t.throws(() => parseElf(e.buf, F, { memSize: c.memSize ?? MEM, tender: c.tender ?? 'spt' }), {
      name: (c.kind ?? ElfError).name,
      message: `${F}: ${c.error}`,
    });
  });
}

t.test("Solo5's own layouts: ABI 2 and ABI 1 images load on solo5-spt", async (t) => {
  const v2 = parseElf(buildSolo5Elf(2).buf, F, { memSize: MEM, tender: 'spt' });
  t.same(v2.abi, { kind: 'solo5', target: 'spt', version: 2 });
  t.same(v2.manifest, DEFAULT_MANIFEST);
  t.same(
    v2.segments.map((s) => [s.vaddr, s.filesz, s.memsz]),
    [
      [TEXT_ADDR, 0x180, 0x180],
      [DATA_ADDR, 16, 16],
      [DATA_ADDR + 0x1000, 0, 0x800],
    ],
    'the empty TLS placeholder at address 0 is skipped; bss is kept',
  );
  t.equal(v2.kernelEnd, DATA_ADDR + 0x2000, 'kernelEnd covers bss');
  t.equal(v2.solo5KernelEnd, DATA_ADDR + 0x1000, "Solo5's kernel_end (ABI 2) ends with the last segment that has file bytes");
  const v1 = parseElf(buildSolo5Elf(1).buf, F, { memSize: MEM, tender: 'spt' });
  t.same(v1.abi, { kind: 'solo5', target: 'spt', version: 1 });
  t.equal(v1.solo5KernelEnd, DATA_ADDR + 0x2000, "Solo5's kernel_end (ABI 1) covers every PT_LOAD");
});

t.test("Solo5's hvt ABI 1 and 2 (target 1) load on solo5-hvt", async (t) => {
  for (const version of [1, 2] as const) {
    const e = buildElf({ abi: { target: 1, version }, noteSegments: 'each' });
    t.same(parseElf(e.buf, F, { memSize: MEM, tender: 'hvt' }).abi, { kind: 'solo5', target: 'hvt', version }, `version ${version}`);
  }
});

t.test("Solo5's layout: lying sizes in a note of its own segment get one line", async (t) => {
  const e = buildSolo5Elf(2);
  t.equal(e.ph.notes.length, 3, 'three PT_NOTEs');
  const [, abiHdr, mftHdr] = e.noteHeaders;
  const lie = (at: number, v: number, message: string) => {
    const copy = { ...e, buf: Buffer.from(e.buf) };
    copy.buf.writeUInt32LE(v, at);
    t.throws(() => parseElf(copy.buf, F, { memSize: MEM, tender: 'spt' }), { message: `${F}: ${message}` });
  };
  lie(abiHdr + 4, 17, 'program header 7 (PT_NOTE): note at offset 0x0: descsz 17 runs past the end of the note area');
  lie(mftHdr + 4, 0x10000, 'program header 8 (PT_NOTE): note at offset 0x0: descsz 65536 runs past the end of the note area');
  lie(mftHdr + 20 + 4 + 4, 7, 'MFT1 note: size 320 bytes, expected 736 for 7 entries');
  lie(abiHdr, 0x7fffffff, 'program header 7 (PT_NOTE): note at offset 0x0: namesz 2147483647 runs past the end of the note area');
});

t.test('memSize must be a sane integer', async (t) => {
  const e = buildElf();
  t.throws(() => parseElf(e.buf, F, { memSize: 4096, tender: 'spt' }), { name: 'UsageError' });
  t.throws(() => parseElf(e.buf, F, { memSize: 2 ** 60, tender: 'spt' }), { name: 'UsageError' });
});

const GUEST_BUILD = join(__dirname, '..', '..', 'guest', 'build');
const built = existsSync(GUEST_BUILD) ? readdirSync(GUEST_BUILD).filter((f) => f.endsWith('.spt')) : [];

t.test('the bundled unikernels load', { skip: built.length === 0 && 'guest/build has no .spt files (npm run build:guest)' }, async (t) => {
  for (const name of built) {
    const elf = loadElf(join(GUEST_BUILD, name), { memSize: MEM, tender: 'spt' });
    t.same(elf.abi, { kind: 'ring', target: 'spt', version: SN_ABI_VERSION }, `${name}: ABI`);
    t.ok(elf.segments.some((s) => s.prot.x) && elf.segments.every((s) => !(s.prot.w && s.prot.x)), `${name}: W^X text`);
    t.ok(elf.kernelEnd > 0x100000 && elf.kernelEnd % 4096 === 0, `${name}: kernel end`);
  }
});

t.test('loadElf reads files and names the errno when it cannot', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-elf-'));
  const good = join(dir, 'good.spt');
  writeFileSync(good, buildElf().buf);
  t.equal(loadElf(good, { memSize: MEM, tender: 'spt' }).entry, TEXT_ADDR);
  const missing = join(dir, 'missing.spt');
  t.throws(() => loadElf(missing, { memSize: MEM, tender: 'spt' }), { name: 'ElfError', message: `${missing}: cannot open: ENOENT` });
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  t.throws(() => loadElf(sub, { memSize: MEM, tender: 'spt' }), { name: 'ElfError', message: `${sub}: not a regular file` });
});

t.test('loadElf does not block on a FIFO', { skip: process.platform !== 'linux' && 'needs mkfifo' }, async (t) => {
  const { execFileSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'sn-elf-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  t.throws(() => loadElf(fifo, { memSize: MEM, tender: 'spt' }), { name: 'ElfError', message: `${fifo}: not a regular file` });
});

t.test('note areas aligned to 8 use 8-byte padding', async (t) => {
  // ld puts 8-aligned notes (GNU properties) in their own PT_NOTE, padded to 8.
  const notes = [
    { owner: 'GNU', type: 5, desc: Buffer.alloc(16) },
    { owner: 'Solo5', type: ABI1, desc: abiDesc() },
    { owner: 'Solo5', type: MFT1, desc: mftDesc(DEFAULT_MANIFEST) },
  ];
  const e = buildElf({ notes, noteAlign: 8 });
  t.equal(parseElf(e.buf, F, { memSize: MEM, tender: 'spt' }).abi.target, 'spt');
  setPh(e, e.ph.note, 'align', 4);
  t.throws(() => parseElf(e.buf, F, { memSize: MEM, tender: 'spt' }), ElfError, 'the same bytes read with 4-byte padding do not parse');
});

t.test("an ordinary program with a GNU note: upstream's 'No Solo5 ABI information' (8-aligned notes pad as linkers do)", async (t) => {
  // A GNU property note as ld writes it in an 8-aligned PT_NOTE: namesz 4, its descriptor at 16.
  const gnu = { owner: 'GNU', type: 5, desc: Buffer.alloc(16, 0xaa) };
  for (const noteAlign of [8, 4] as const) {
    const e = buildElf({ notes: [gnu], noteAlign });
    t.throws(
      () => parseElf(e.buf, F, { memSize: MEM, tender: 'spt' }),
      {
        name: 'ElfError',
        message: `${F}: no ABI1 note (not a Solo5 unikernel?)`,
        upstream: `${F}: No Solo5 ABI information found in executable`,
      },
      `static program, notes aligned to ${noteAlign}`,
    );
  }
  const pie = buildElf({ notes: [gnu], noteAlign: 8 });
  pie.buf.writeUInt16LE(3, 16);
  t.throws(() => parseElf(pie.buf, F, { memSize: MEM, tender: 'spt' }), {
    name: 'ElfError',
    upstream: `${F}: No Solo5 ABI information found in executable`,
    message: `${F}: e_type 3 (position-independent or shared object), expected ET_EXEC (2): an ordinary program, not a Solo5 unikernel (it has no ABI1 note)`,
  });
  if (existsSync('/bin/true')) {
    t.throws(
      () => loadElf('/bin/true', { memSize: MEM, tender: 'spt' }),
      { name: 'ElfError', upstream: '/bin/true: No Solo5 ABI information found in executable' },
      '/bin/true',
    );
  }
});

t.test("upstream's words for the errors upstream's tests and scripts grep", async (t) => {
  const wrongTarget = buildElf({
    notes: [
      { owner: 'Solo5', type: ABI1, desc: abiDesc(1) },
      { owner: 'Solo5', type: MFT1, desc: mftDesc(DEFAULT_MANIFEST) },
    ],
  });
  t.throws(() => parseElf(wrongTarget.buf, F, { memSize: MEM, tender: 'spt' }), {
    name: 'ElfError',
    upstream: `${F}: Executable is not for the solo5-spt target`,
  });
  const noMft = buildElf({ notes: [{ owner: 'Solo5', type: ABI1, desc: abiDesc() }] });
  t.throws(() => parseElf(noMft.buf, F, { memSize: MEM, tender: 'spt' }), {
    name: 'ElfError',
    upstream: `${F}: No Solo5 manifest found in executable`,
  });
  const shortMft = buildElf({
    notes: [
      { owner: 'Solo5', type: ABI1, desc: abiDesc() },
      { owner: 'Solo5', type: MFT1, desc: Buffer.alloc(2) },
    ],
  });
  t.throws(() => parseElf(shortMft.buf, F, { memSize: MEM, tender: 'spt' }), {
    name: 'ElfError',
    upstream: `${F}: invalid executable: note does not fall within valid size`,
  });
  const notElf = Buffer.alloc(128, 0x41);
  t.throws(() => parseElf(notElf, F, { memSize: MEM, tender: 'spt' }), {
    name: 'ElfError',
    upstream: `${F}: invalid executable: invalid or unsupported executable (elf header invalid while loading note)`,
    message: `${F}: not an ELF file (bad magic)`,
  });
  const missing = join(mkdtempSync(join(tmpdir(), 'sn-elf-')), 'missing.spt');
  const err = t.throws(() => loadElf(missing, { memSize: MEM, tender: 'spt' }), {
    name: 'ElfError',
    upstream: `${missing}: Could not open: No such file or directory`,
  });
  t.equal((err as ElfError).upstreamAlone, true, "upstream's words say it all");
});
