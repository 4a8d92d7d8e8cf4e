// parse.ts: validates an untrusted ELF64 unikernel image and extracts what the tender needs to load it.
import { SN_GUEST_MIN_BASE, SN_PAGE_SIZE, TARGET_NUMBER, type Target } from '../abi.js';
import { ElfError, ManifestError, UsageError, upstreamSays } from '../errors.js';
import { decodeMftNote } from '../manifest/note.js';
import type { Manifest } from '../manifest/types.js';
import * as C from './constants.js';
import { abiForTender, guestAbiOf, type GuestAbi } from './abi.js';
import { collectNotes, decodeAbiNote, exactlyOne, mftFromNote, type AbiNote, type SoloNotes } from './notes.js';

export interface Segment {
  vaddr: number;
  memsz: number;
  filesz: number;
  /** filesz bytes, a copy (the caller may keep it after the file buffer is gone) */
  data: Buffer;
  prot: { r: boolean; w: boolean; x: boolean };
}

export interface LoadedElf {
  file: string;
  entry: number;
  /** PT_LOAD segments with memsz > 0, sorted by vaddr */
  segments: Segment[];
  /** page-aligned end of the highest PT_LOAD, bss included */
  kernelEnd: number;
  /**
   * Solo5's kernel_end for its spt boot info: the page-aligned end of the
   * PT_LOADs its loader copies (p_filesz != 0 in ABI version 2, every one in
   * version 1), so in version 2 it excludes .bss. Equal to kernelEnd for the
   * ring ABI.
   */
  solo5KernelEnd: number;
  abi: GuestAbi;
  /** The ABI1 note as found (for messages and query-abi). */
  abiNote: AbiNote;
  manifest: Manifest;
}

export interface ElfOptions {
  /** bytes of guest memory; every PT_LOAD must end at or below it */
  memSize: number;
  /**
   * The tender that will run the file: anything it cannot run is refused in
   * one line before the manifest is read.
   */
  tender: Target;
}

interface RawPhdr {
  index: number;
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

const PAGE = BigInt(SN_PAGE_SIZE);
const hex = (n: bigint | number): string => `0x${n.toString(16)}`;
const pageDown = (n: bigint): bigint => n - (n % PAGE);
const pageUp = (n: bigint): bigint => pageDown(n + PAGE - 1n);

/**
 * Checks the ELF header; returns the program header table's offset and count.
 * An ET_DYN file passes with `pie` set (only so far: it is refused once its
 * notes are known, because "no Solo5 ABI note" says more about /bin/true).
 */
function checkHeader(buf: Buffer, fail: (m: string) => never): { phoff: number; phnum: number; entry: bigint; pie?: string } {
  if (buf.length < C.EHDR_SIZE) fail(`truncated: ${buf.length} bytes, an ELF64 header needs ${C.EHDR_SIZE}`);
  if (buf.readUInt32LE(0) !== C.ELF_MAGIC) fail('not an ELF file (bad magic)');
  if (buf[4] !== C.ELFCLASS64) fail(`not a 64-bit ELF (EI_CLASS ${buf[4]})`);
  if (buf[5] !== C.ELFDATA2LSB) fail(`not little-endian (EI_DATA ${buf[5]})`);
  if (buf[6] !== C.EV_CURRENT) fail(`EI_VERSION ${buf[6]}, expected ${C.EV_CURRENT}`);
  const type = buf.readUInt16LE(16);
  const pie = type === C.ET_DYN ? `e_type ${type} (position-independent or shared object), expected ET_EXEC (${C.ET_EXEC})` : undefined;
  if (type !== C.ET_EXEC && pie === undefined) fail(`e_type ${type}, expected ET_EXEC (${C.ET_EXEC})`);
  const machine = buf.readUInt16LE(18);
  if (machine !== C.EM_X86_64) fail(`e_machine ${machine}, expected EM_X86_64 (${C.EM_X86_64})`);
  const version = buf.readUInt32LE(20);
  if (version !== C.EV_CURRENT) fail(`e_version ${version}, expected ${C.EV_CURRENT}`);
  const entry = buf.readBigUInt64LE(24);
  const phoff = buf.readBigUInt64LE(32);
  const ehsize = buf.readUInt16LE(52);
  if (ehsize !== C.EHDR_SIZE) fail(`e_ehsize ${ehsize}, expected ${C.EHDR_SIZE}`);
  const phentsize = buf.readUInt16LE(54);
  const phnum = buf.readUInt16LE(56);
  if (phnum === 0) fail('no program headers');
  if (phentsize !== C.PHDR_SIZE) fail(`e_phentsize ${phentsize}, expected ${C.PHDR_SIZE}`);
  if (phnum > C.MAX_PHDRS) fail(`e_phnum ${phnum}, at most ${C.MAX_PHDRS} supported`);
  const tableEnd = phoff + BigInt(phnum * C.PHDR_SIZE);
  if (tableEnd > BigInt(buf.length)) {
    fail(`program header table (e_phoff ${hex(phoff)}, ${phnum} entries) runs past the end of the file (${buf.length} bytes)`);
  }
  return { phoff: Number(phoff), phnum, entry, pie };
}

function readPhdrs(buf: Buffer, phoff: number, phnum: number): RawPhdr[] {
  const out: RawPhdr[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * C.PHDR_SIZE;
    out.push({
      index: i,
      type: buf.readUInt32LE(o),
      flags: buf.readUInt32LE(o + 4),
      offset: buf.readBigUInt64LE(o + 8),
      vaddr: buf.readBigUInt64LE(o + 16),
      filesz: buf.readBigUInt64LE(o + 32),
      memsz: buf.readBigUInt64LE(o + 40),
      align: buf.readBigUInt64LE(o + 48),
    });
  }
  return out;
}

/** Fails unless the segment's bytes in the file lie inside it; 64-bit sums cannot wrap in BigInt. */
function checkFileRange(p: RawPhdr, size: number, what: string, fail: (m: string) => never): void {
  if (p.offset + p.filesz > BigInt(size)) {
    fail(`${what}: file range ${hex(p.offset)}+${hex(p.filesz)} runs past the end of the file (${size} bytes)`);
  }
}

/**
 * The PT_LOAD rules. p_align must be a power of two of at least a page: the
 * guest's memory is mapped with page granularity, and 0 or 1 ("no alignment")
 * would let a segment claim a page another segment also needs.
 */
function checkLoad(p: RawPhdr, size: number, memSize: bigint, fail: (m: string) => never): void {
  const what = `program header ${p.index} (PT_LOAD)`;
  if (p.filesz > p.memsz) fail(`${what}: p_filesz ${hex(p.filesz)} > p_memsz ${hex(p.memsz)}`);
  checkFileRange(p, size, what, fail);
  if (p.align < PAGE || (p.align & (p.align - 1n)) !== 0n) {
    fail(`${what}: p_align ${hex(p.align)} is not a power of two >= ${hex(PAGE)}`);
  }
  if (p.vaddr < BigInt(SN_GUEST_MIN_BASE)) {
    fail(`${what}: p_vaddr ${hex(p.vaddr)} is below the guest base ${hex(SN_GUEST_MIN_BASE)}`);
  }
  const end = p.vaddr + p.memsz;
  if (end > memSize || pageUp(end) > memSize) {
    fail(`${what}: ends at ${hex(end)}, beyond guest memory (${hex(memSize)} bytes)`);
  }
  if ((p.flags & C.PF_W) !== 0 && (p.flags & C.PF_X) !== 0) {
    fail(`${what}: segment is both writable and executable`);
  }
}

/**
 * Parses and validates `buf`, the contents of `file` (UNTRUSTED: any byte may
 * be hostile). Throws ElfError, or ManifestError for a bad MFT1 note, with
 * one line naming the file and the fault; never allocates more than the
 * file's own size.
 */
export function parseElf(buf: Buffer, file: string, opts: ElfOptions): LoadedElf {
  if (!Number.isSafeInteger(opts.memSize) || opts.memSize <= SN_GUEST_MIN_BASE) {
    throw new UsageError(`memSize ${opts.memSize} must be an integer above ${hex(SN_GUEST_MIN_BASE)}`);
  }
  const fail = failFor(file);
  const { phdrs, entry, notes } = readNotes(buf, file);
  // The ABI first: "built for another ABI" is the most useful thing to say about a foreign unikernel.
  const abiNote = decodeAbiNote(file, exactlyOne(file, 'ABI1', notes.abi));
  let abi: GuestAbi;
  try {
    abi = abiForTender(file, abiNote, opts.tender);
  } catch (e) {
    // Upstream's tender checks the target before the version.
    const upstream =
      abiNote.target !== TARGET_NUMBER[opts.tender]
        ? `Executable is not for the solo5-${opts.tender} target`
        : `Executable requests unsupported ABI version ${abiNote.version}`;
    throw e instanceof ElfError ? upstreamSays(e, `${file}: ${upstream}`) : e;
  }
  let manifest: Manifest;
  try {
    manifest = decodeMftNote(mftFromNote(file, exactlyOne(file, 'MFT1', notes.mft)), file);
  } catch (e) {
    throw e instanceof ManifestError ? upstreamSays(e, `${file}: Solo5 manifest is invalid`) : e;
  }

  const memSize = BigInt(opts.memSize);
  /*
   * Solo5's ABI-2 linker script emits an empty PT_LOAD at address 0 for a
   * missing TLS image; its loader skips every PT_LOAD with p_filesz 0, and
   * an empty one occupies nothing, so it is not checked here either.
   */
  const loads = phdrs.filter((p) => p.type === C.PT_LOAD && !(p.filesz === 0n && p.memsz === 0n));
  for (const p of loads) checkLoad(p, buf.length, memSize, fail);
  // Empty PT_LOADs occupy nothing; linkers occasionally emit them.
  const used = loads.filter((p) => p.memsz > 0n).sort((a, b) => (a.vaddr < b.vaddr ? -1 : a.vaddr > b.vaddr ? 1 : 0));
  if (used.length === 0) fail('no PT_LOAD segment');
  if (used.length > C.MAX_LOAD_SEGMENTS) fail(`${used.length} PT_LOAD segments, at most ${C.MAX_LOAD_SEGMENTS} supported`);
  for (let i = 1; i < used.length; i++) {
    const prev = used[i - 1];
    const cur = used[i];
    if (pageDown(cur.vaddr) < pageUp(prev.vaddr + prev.memsz)) {
      fail(`program headers ${prev.index} and ${cur.index} (PT_LOAD) overlap once rounded to ${SN_PAGE_SIZE}-byte pages`);
    }
  }
  const text = used.find((p) => (p.flags & C.PF_X) !== 0 && entry >= p.vaddr && entry < p.vaddr + p.memsz);
  if (!text) fail(`entry point ${hex(entry)} is not inside an executable PT_LOAD segment`);

  const segments = used.map((p): Segment => {
    const start = Number(p.offset);
    return {
      vaddr: Number(p.vaddr),
      memsz: Number(p.memsz),
      filesz: Number(p.filesz),
      data: Buffer.from(buf.subarray(start, start + Number(p.filesz))),
      prot: { r: (p.flags & C.PF_R) !== 0, w: (p.flags & C.PF_W) !== 0, x: (p.flags & C.PF_X) !== 0 },
    };
  });
  const last = used[used.length - 1];
  const kernelEnd = Number(pageUp(last.vaddr + last.memsz));
  // Solo5's loader copies only segments with file bytes (ABI 2) and rounds each end to its p_align.
  const copied = abi.kind === 'solo5' && abi.version === 1 ? used : used.filter((p) => p.filesz > 0n);
  const solo5KernelEnd =
    abi.kind !== 'solo5' ? kernelEnd : copied.reduce((end, p) => Math.max(end, Number(alignUp(p.vaddr + p.memsz, p.align))), 0);
  return { file, entry: Number(entry), segments, kernelEnd, solo5KernelEnd, abi, abiNote, manifest };
}

function failFor(file: string): (msg: string) => never {
  return (msg: string): never => {
    throw new ElfError(file, msg);
  };
}

/**
 * The ELF header, the program headers and every Solo5 note of the PT_NOTE
 * segments; no other part of the file is looked at (section headers never).
 */
function readNotes(buf: Buffer, file: string): { phdrs: RawPhdr[]; entry: bigint; notes: SoloNotes } {
  const fail = failFor(file);
  let header: ReturnType<typeof checkHeader>;
  try {
    header = checkHeader(buf, fail);
  } catch (e) {
    const upstream = `${file}: invalid executable: invalid or unsupported executable (elf header invalid while loading note)`;
    throw e instanceof ElfError ? upstreamSays(e, upstream) : e;
  }
  const { phoff, phnum, entry, pie } = header;
  const phdrs = readPhdrs(buf, phoff, phnum);
  const notes: SoloNotes = { abi: [], mft: [] };
  for (const p of phdrs) {
    if (p.type !== C.PT_NOTE) continue;
    const where = `program header ${p.index} (PT_NOTE)`;
    checkFileRange(p, buf.length, where, fail);
    const start = Number(p.offset);
    collectNotes(file, where, buf.subarray(start, start + Number(p.filesz)), Number(p.align === 8n ? 8n : 4n), notes);
  }
  if (pie !== undefined) {
    if (notes.abi.length === 0) {
      throw upstreamSays(
        new ElfError(file, `${pie}: an ordinary program, not a Solo5 unikernel (it has no ABI1 note)`),
        `${file}: No Solo5 ABI information found in executable`,
      );
    }
    throw upstreamSays(
      new ElfError(file, pie),
      `${file}: invalid executable: invalid or unsupported executable (elf header invalid while loading note)`,
    );
  }
  return { phdrs, entry, notes };
}

/** The ABI1 note of any well-formed Solo5 ELF, whatever its target and version (solo5-elftool query-abi). */
export function queryAbi(buf: Buffer, file: string): { note: AbiNote; abi: GuestAbi | undefined } {
  const note = decodeAbiNote(file, exactlyOne(file, 'ABI1', readNotes(buf, file).notes.abi));
  return { note, abi: guestAbiOf(note) };
}

/** The manifest of any well-formed Solo5 ELF, whatever its target and version (solo5-elftool query-manifest). */
export function queryManifest(buf: Buffer, file: string): Manifest {
  return decodeMftNote(mftFromNote(file, exactlyOne(file, 'MFT1', readNotes(buf, file).notes.mft)), file);
}

const alignUp = (n: bigint, a: bigint): bigint => ((n + a - 1n) / a) * a;
