// elf-fuzz.test.ts: thousands of seeded random mutations of a valid image never crash, hang or slip past the loader.
import t from 'tap';
import { ElfError, ManifestError } from '../lib/errors.js';
import { parseElf } from '../lib/elf/index.js';
import { buildElf, type BuiltElf } from './support/elf-builder.js';
import { testSeed } from './support/seed.js';

const MEM = 32 * 1024 * 1024;
const F = 'guest.spt';

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

const INTERESTING = [
  0n,
  1n,
  7n,
  8n,
  56n,
  64n,
  0xfffn,
  0x1000n,
  0x100000n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  0x7fffffffffffffffn,
  0xffffffffffffffffn,
];

/** One random mutation of a fresh valid image; returns the damaged bytes. */
function mutate(base: BuiltElf, rand: () => number): Buffer {
  const buf = Buffer.from(base.buf);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const value = (): bigint =>
    rand() < 0.6 ? pick(INTERESTING) : BigInt(Math.floor(rand() * 2 ** 32)) * BigInt(Math.floor(rand() * 2 ** 20));
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
    case 3: {
      // a program header field
      const ph = Math.floor(rand() * 4);
      const [off, size] = pick([
        [0, 4],
        [4, 4],
        [8, 8],
        [16, 8],
        [32, 8],
        [40, 8],
        [48, 8],
      ] as const);
      put(base.phoff + ph * 56 + off, size);
      return buf;
    }
    case 4: {
      // a note header field
      put(pick(base.noteHeaders) + pick([0, 4, 8]), 4);
      return buf;
    }
    default: {
      // bytes inside the note area (the MFT1 descriptor is most of it)
      for (let n = 1 + Math.floor(rand() * 4); n > 0; n--) {
        buf[base.noteOffset + Math.floor(rand() * base.noteSize)] = Math.floor(rand() * 256);
      }
      return buf;
    }
  }
}

/* The ring ABI's image on spt, and upstream's hvt ABI 2 layout (each note in its own PT_NOTE) on hvt. */
const bases: Array<[string, () => ReturnType<typeof buildElf>, 'spt' | 'hvt']> = [
  ['ring ABI, spt', () => buildElf(), 'spt'],
  ["Solo5's hvt ABI 2, hvt", () => buildElf({ abi: { target: 1, version: 2 }, noteSegments: 'each' }), 'hvt'],
];

for (const [what, make, tender] of bases)
  t.test(`random mutations end in success or a one-line ElfError/ManifestError (${what})`, async (t) => {
    const ITERATIONS = 5000;
    const seed = testSeed();
    const rand = rng(seed);
    const base = make();
    const outcomes = new Map<string, number>();
    for (let i = 0; i < ITERATIONS; i++) {
      const buf = mutate(base, rand);
      let kind: string;
      try {
        const elf = parseElf(buf, F, { memSize: MEM, tender });
        // Whatever a mutation let through must still satisfy the loader's promises.
        let prevEnd = 0;
        for (const s of elf.segments) {
          if (s.vaddr < 0x100000 || s.vaddr + s.memsz > MEM || (s.prot.w && s.prot.x) || s.data.length !== s.filesz || s.filesz > s.memsz) {
            t.fail(`iteration ${i} (seed ${seed}): bad segment accepted ${JSON.stringify({ ...s, data: undefined })}`);
          }
          if (Math.floor(s.vaddr / 4096) * 4096 < prevEnd) t.fail(`iteration ${i} (seed ${seed}): overlapping segments accepted`);
          prevEnd = Math.ceil((s.vaddr + s.memsz) / 4096) * 4096;
        }
        if (!elf.segments.some((s) => s.prot.x && elf.entry >= s.vaddr && elf.entry < s.vaddr + s.memsz))
          t.fail(`iteration ${i} (seed ${seed}): entry outside text`);
        kind = 'ok';
      } catch (e) {
        if (!(e instanceof ElfError || e instanceof ManifestError)) {
          t.fail(`iteration ${i} (seed ${seed}): unexpected ${String(e)}`);
          return;
        }
        if (e.message.includes('\n') || !e.message.startsWith(`${F}: `))
          t.fail(`iteration ${i} (seed ${seed}): not one line naming the file: ${e.message}`);
        kind = e.name;
      }
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
    }
    // A hang is caught by tap's timeout; a time bound here would only measure the machine's load.
    t.comment(`${ITERATIONS} mutations (seed ${seed}): ${JSON.stringify(Object.fromEntries(outcomes))}`);
    t.ok((outcomes.get('ElfError') ?? 0) > ITERATIONS / 4, `most mutations are caught as ElfError (seed ${seed})`);
    t.ok((outcomes.get('ManifestError') ?? 0) > 0, `some reach the MFT1 decoder (seed ${seed})`);
    t.ok((outcomes.get('ok') ?? 0) > 0, `some are harmless (seed ${seed})`);
  });
