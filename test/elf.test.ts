// elf.test.ts: the ELF loader accepts valid unikernel images and refuses each malformed one with its one-line error.
import t from 'tap';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfError, ManifestError } from '../lib/errors.js';
import { loadElf, parseElf } from '../lib/elf/index.js';
import { encodeMftNote } from '../lib/manifest/note.js';
import {
  ABI1, DATA_ADDR, DEFAULT_MANIFEST, MFT1, PF_R, PF_W, PF_X, TEXT_ADDR,
  abiDesc, buildElf, setEh, setPh, type BuildOptions, type BuiltElf,
} from './support/elf-builder.js';

const MEM = 32 * 1024 * 1024;
const F = 'guest.spt';

t.test('a valid image yields segments, entry, kernel end, ABI and manifest', async (t) => {
  const e = buildElf();
  const elf = parseElf(e.buf, F, { memSize: MEM });
  t.equal(elf.file, F);
  t.equal(elf.entry, TEXT_ADDR);
  t.same(elf.abi, { target: 'spt', version: 1 });
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
    abi: { target: 1, version: 1 },
    interp: false,
    segments: [
      { vaddr: 0x300000, data: Buffer.alloc(8), memsz: 0x10, flags: PF_R | PF_W },
      { vaddr: 0x200000, data: Buffer.alloc(64, 0xcc), flags: PF_R | PF_X },
    ],
    entry: 0x200010,
  });
  const elf = parseElf(e.buf, F, { memSize: MEM });
  t.equal(elf.abi.target, 'hvt');
  t.same(elf.segments.map((s) => s.vaddr), [0x200000, 0x300000]);
  t.equal(elf.kernelEnd, 0x301000);
});

t.test('other owners\' notes and zero-size PT_LOADs are ignored', async (t) => {
  const e = buildElf({
    notes: [
      { owner: 'GNU', type: 3, desc: Buffer.alloc(20, 1) },
      { owner: 'Solo5', type: ABI1, desc: abiDesc() },
      { owner: 'Solo5', type: 0x12345678, desc: Buffer.alloc(3) },
      { owner: 'Solo5', type: MFT1, desc: encodeMftNote({ type: 'solo5.manifest', version: 1, devices: [] }) },
    ],
    segments: [
      { vaddr: TEXT_ADDR, data: Buffer.alloc(16), flags: PF_R | PF_X },
      { vaddr: 0x500000, data: Buffer.alloc(0), flags: PF_R },
    ],
  });
  const elf = parseElf(e.buf, F, { memSize: MEM });
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
  { name: 'p_align 0', mutate: (e) => setPh(e, e.ph.loads[0], 'align', 0), error: 'program header 1 (PT_LOAD): p_align 0x0 is not a power of two >= 0x1000' },
  { name: 'p_align not a power of two', mutate: (e) => setPh(e, e.ph.loads[0], 'align', 0x3000), error: 'program header 1 (PT_LOAD): p_align 0x3000 is not a power of two >= 0x1000' },
  { name: 'p_align too small', mutate: (e) => setPh(e, e.ph.loads[0], 'align', 16), error: 'program header 1 (PT_LOAD): p_align 0x10 is not a power of two >= 0x1000' },
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
  { name: 'entry outside every segment', opts: { entry: 0x4000000 }, error: 'entry point 0x4000000 is not inside an executable PT_LOAD segment' },
  { name: 'entry in data', opts: { entry: DATA_ADDR + 4 }, error: 'entry point 0x102004 is not inside an executable PT_LOAD segment' },
  {
    name: 'PT_NOTE past EOF',
    mutate: (e) => setPh(e, e.ph.note, 'filesz', e.buf.length),
    error: 'program header 3 (PT_NOTE): file range 0x140+0x2010 runs past the end of the file (8208 bytes)',
  },
  {
    name: 'note header truncated',
    mutate: (e) => setPh(e, e.ph.note, 'filesz', 8),
    error: 'program header 3 (PT_NOTE): note at offset 0x0: truncated note header',
  },
  {
    name: 'namesz lies',
    mutate: (e) => e.buf.writeUInt32LE(0xfffffff0, e.noteHeaders[1]),
    error: 'program header 3 (PT_NOTE): note at offset 0x1c: namesz 4294967280 runs past the end of the note area',
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
        { owner: 'Solo5', type: MFT1, desc: encodeMftNote(DEFAULT_MANIFEST) },
      ],
    },
    error: '2 ABI1 notes, expected exactly one',
  },
  {
    name: 'two MFT1 notes',
    opts: {
      notes: [
        { owner: 'Solo5', type: ABI1, desc: abiDesc() },
        { owner: 'Solo5', type: MFT1, desc: encodeMftNote(DEFAULT_MANIFEST) },
        { owner: 'Solo5', type: MFT1, desc: encodeMftNote(DEFAULT_MANIFEST) },
      ],
    },
    error: '2 MFT1 notes, expected exactly one',
  },
  { name: 'ABI1 unknown target', opts: { abi: { target: 3, version: 1 } }, error: 'ABI1 note: unknown target 3 (1 = hvt, 2 = spt)' },
  { name: 'ABI1 wrong version', opts: { abi: { target: 2, version: 2 } }, error: 'ABI1 note: ABI version 2, this tender supports 1' },
  {
    name: 'ABI1 short descriptor',
    opts: {
      notes: [
        { owner: 'Solo5', type: ABI1, desc: Buffer.alloc(4) },
        { owner: 'Solo5', type: MFT1, desc: encodeMftNote(DEFAULT_MANIFEST) },
      ],
    },
    error: 'ABI1 note: descriptor is 4 bytes, expected 8',
  },
  {
    name: 'MFT1 pre-attached device',
    mutate: (e) => {
      const desc = e.noteHeaders[1] + 12 + 8;
      e.buf[desc + 8 + 96 * 2 + 92] = 1;
    },
    error: 'MFT1 note: entry 2: attached is set (must be 0 in the ELF)',
    kind: ManifestError,
  },
];

for (const c of cases) {
  t.test(`refuses: ${c.name}`, async (t) => {
    const e = buildElf(c.opts);
    c.mutate?.(e);
    t.throws(() => parseElf(e.buf, F, { memSize: c.memSize ?? MEM }), { name: (c.kind ?? ElfError).name, message: `${F}: ${c.error}` });
  });
}

t.test('memSize must be a sane integer', async (t) => {
  const e = buildElf();
  t.throws(() => parseElf(e.buf, F, { memSize: 4096 }), { name: 'UsageError' });
  t.throws(() => parseElf(e.buf, F, { memSize: 2 ** 60 }), { name: 'UsageError' });
});

t.test('loadElf reads files and names the errno when it cannot', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-elf-'));
  const good = join(dir, 'good.spt');
  writeFileSync(good, buildElf().buf);
  t.equal(loadElf(good, { memSize: MEM }).entry, TEXT_ADDR);
  const missing = join(dir, 'missing.spt');
  t.throws(() => loadElf(missing, { memSize: MEM }), { name: 'ElfError', message: `${missing}: cannot open: ENOENT` });
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  t.throws(() => loadElf(sub, { memSize: MEM }), { name: 'ElfError', message: `${sub}: not a regular file` });
});

t.test('loadElf does not block on a FIFO', { skip: process.platform !== 'linux' && 'needs mkfifo' }, async (t) => {
  const { execFileSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'sn-elf-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  t.throws(() => loadElf(fifo, { memSize: MEM }), { name: 'ElfError', message: `${fifo}: not a regular file` });
});

t.test('note areas aligned to 8 use 8-byte padding', async (t) => {
  // ld puts 8-aligned notes (GNU properties) in their own PT_NOTE, padded to 8.
  const notes = [
    { owner: 'GNU', type: 5, desc: Buffer.alloc(16) },
    { owner: 'Solo5', type: ABI1, desc: abiDesc() },
    { owner: 'Solo5', type: MFT1, desc: encodeMftNote(DEFAULT_MANIFEST) },
  ];
  const e = buildElf({ notes, noteAlign: 8 });
  t.equal(parseElf(e.buf, F, { memSize: MEM }).abi.target, 'spt');
  setPh(e, e.ph.note, 'align', 4);
  t.throws(() => parseElf(e.buf, F, { memSize: MEM }), ElfError, 'the same bytes read with 4-byte padding do not parse');
});

/** Small seeded PRNG (mulberry32) so that a failing mutation can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0n, 1n, 7n, 8n, 56n, 64n, 0xfffn, 0x1000n, 0x100000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn];

/** One random mutation of a fresh valid image; returns the damaged bytes. */
function mutate(base: BuiltElf, rand: () => number): Buffer {
  const buf = Buffer.from(base.buf);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const value = (): bigint => (rand() < 0.6 ? pick(INTERESTING) : BigInt(Math.floor(rand() * 2 ** 32)) * BigInt(Math.floor(rand() * 2 ** 20)));
  const put = (off: number, size: number): void => {
    if (off + size > buf.length) return;
    const v = value();
    if (size === 8) buf.writeBigUInt64LE(BigInt.asUintN(64, v), off);
    else if (size === 4) buf.writeUInt32LE(Number(BigInt.asUintN(32, v)), off);
    else buf.writeUInt16LE(Number(BigInt.asUintN(16, v)), off);
  };
  switch (Math.floor(rand() * 6)) {
    case 0: // bit flips anywhere
      for (let n = 1 + Math.floor(rand() * 8); n > 0; n--) buf[Math.floor(rand() * buf.length)] ^= 1 << Math.floor(rand() * 8);
      return buf;
    case 1: // truncation
      return buf.subarray(0, Math.floor(rand() * buf.length));
    case 2: // an ELF header field
      put(pick([16, 18, 20, 24, 32, 52, 54, 56]), pick([2, 2, 4, 8, 8, 2, 2, 2]));
      return buf;
    case 3: { // a program header field
      const ph = Math.floor(rand() * 4);
      const [off, size] = pick([[0, 4], [4, 4], [8, 8], [16, 8], [32, 8], [40, 8], [48, 8]] as const);
      put(base.phoff + ph * 56 + off, size);
      return buf;
    }
    case 4: { // a note header field
      put(pick(base.noteHeaders) + pick([0, 4, 8]), 4);
      return buf;
    }
    default: { // bytes inside the note area (the MFT1 descriptor is most of it)
      for (let n = 1 + Math.floor(rand() * 4); n > 0; n--) {
        buf[base.noteOffset + Math.floor(rand() * base.noteSize)] = Math.floor(rand() * 256);
      }
      return buf;
    }
  }
}

t.test('random mutations end in success or a one-line ElfError/ManifestError, quickly', async (t) => {
  const ITERATIONS = 5000;
  const seed = Number(process.env.SN_FUZZ_SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (replay with SN_FUZZ_SEED=${seed})`);
  const rand = rng(seed);
  const base = buildElf();
  const outcomes = new Map<string, number>();
  const started = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) {
    const buf = mutate(base, rand);
    let kind: string;
    try {
      const elf = parseElf(buf, F, { memSize: MEM });
      // Whatever a mutation let through must still satisfy the loader's promises.
      let prevEnd = 0;
      for (const s of elf.segments) {
        if (s.vaddr < 0x100000 || s.vaddr + s.memsz > MEM || (s.prot.w && s.prot.x) || s.data.length !== s.filesz || s.filesz > s.memsz) {
          t.fail(`iteration ${i}: bad segment accepted ${JSON.stringify({ ...s, data: undefined })}`);
        }
        if (Math.floor(s.vaddr / 4096) * 4096 < prevEnd) t.fail(`iteration ${i}: overlapping segments accepted`);
        prevEnd = Math.ceil((s.vaddr + s.memsz) / 4096) * 4096;
      }
      if (!elf.segments.some((s) => s.prot.x && elf.entry >= s.vaddr && elf.entry < s.vaddr + s.memsz)) t.fail(`iteration ${i}: entry outside text`);
      kind = 'ok';
    } catch (e) {
      if (!(e instanceof ElfError || e instanceof ManifestError)) {
        t.fail(`iteration ${i} (seed ${seed}): unexpected ${String(e)}`);
        return;
      }
      if (e.message.includes('\n') || !e.message.startsWith(`${F}: `)) t.fail(`iteration ${i}: not one line naming the file: ${e.message}`);
      kind = e.name;
    }
    outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.comment(`${ITERATIONS} mutations in ${ms.toFixed(0)} ms: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  t.ok((outcomes.get('ElfError') ?? 0) > ITERATIONS / 4, 'most mutations are caught as ElfError');
  t.ok((outcomes.get('ManifestError') ?? 0) > 0, 'some reach the MFT1 decoder');
  t.ok((outcomes.get('ok') ?? 0) > 0, 'some are harmless');
  t.ok(ms < 20000, 'the loop finishes in reasonable time');
});
