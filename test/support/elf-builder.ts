// elf-builder.ts: builds small synthetic ELF64 unikernel images for the loader tests, valid unless told otherwise.
import { SN_ABI_VERSION } from '../../lib/abi.js';
import { encodeMftNoteDescriptor } from '../../lib/manifest/note.js';
import type { Manifest } from '../../lib/manifest/types.js';

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_TLS = 7;
export const ABI1 = 0x31494241;
export const MFT1 = 0x3154464d;

export interface SegSpec {
  vaddr: number;
  data: Buffer;
  /** defaults to data.length */
  memsz?: number;
  flags: number;
  align?: number;
}

export interface NoteSpec {
  owner: string;
  type: number;
  desc: Buffer;
}

export interface BuildOptions {
  segments?: SegSpec[];
  entry?: number;
  /** replaces the default ABI1 + MFT1 notes */
  notes?: NoteSpec[];
  manifest?: Manifest;
  abi?: { target: number; version: number };
  /** PT_INTERP path; false for none */
  interp?: string | false;
  /** PT_NOTE p_align, and the padding of names and descriptors (4 or 8) */
  noteAlign?: 4 | 8;
  /**
   * 'shared': every note in one PT_NOTE (older layouts). 'each' (Solo5's
   * layout): Solo5's "not OpenBSD" note first, then each note alone in its
   * own PT_NOTE, in that order in the program header table.
   */
  noteSegments?: 'shared' | 'each';
  /** Program headers without file bytes, written after the PT_LOADs (Solo5 ABI 2's TLS placeholders). */
  extraPhdrs?: { type: number; flags: number; vaddr: number; memsz: number; align: number }[];
}

/** Where things landed, so tests can damage exactly one field. */
export interface BuiltElf {
  buf: Buffer;
  phoff: number;
  /** program header index of each kind (loads in the order given; note is the first PT_NOTE) */
  ph: { loads: number[]; note: number; notes: number[]; interp: number | undefined };
  noteOffset: number;
  noteSize: number;
  /** file offset of each note's header, in order */
  noteHeaders: number[];
}

export const TEXT_ADDR = 0x100000;
export const DATA_ADDR = 0x102000;

export const DEFAULT_MANIFEST: Manifest = {
  type: 'solo5.manifest',
  version: 1,
  devices: [
    { name: 'service', type: 'NET_BASIC' },
    { name: 'storage', type: 'BLOCK_BASIC' },
  ],
};

/** Solo5's 16-byte ABI1 descriptor (target, version, two reserved words). */
export function abiDesc(target = 2, version = SN_ABI_VERSION): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(target, 0);
  b.writeUInt32LE(version, 4);
  return b;
}

/** Solo5's MFT1 descriptor: 4 padding bytes, then the manifest. */
export function mftDesc(m: Manifest = DEFAULT_MANIFEST): Buffer {
  return encodeMftNoteDescriptor(m);
}

/** Solo5's "not OpenBSD" note (name "OpenBSD", type NT_VERSION, a zero word). */
export const NOT_OPENBSD: NoteSpec = { owner: 'OpenBSD', type: 1, desc: Buffer.alloc(4) };

/** One note with name and descriptor padded to `align`, as the ELF format lays it out. */
export function encodeNote(n: NoteSpec, align: 4 | 8 = 4): Buffer {
  const name = Buffer.from(`${n.owner}\0`, 'latin1');
  const pad = (x: number): number => Math.ceil(x / align) * align;
  // As linkers do: the descriptor at the first aligned offset after the name; Solo5's own at 20 always.
  const descAt = name.length === 6 ? 20 : pad(12 + name.length);
  const out = Buffer.alloc(descAt + pad(n.desc.length));
  out.writeUInt32LE(name.length, 0);
  out.writeUInt32LE(n.desc.length, 4);
  out.writeUInt32LE(n.type, 8);
  name.copy(out, 12);
  n.desc.copy(out, descAt);
  return out;
}

function defaultSegments(): SegSpec[] {
  const text = Buffer.alloc(0x180, 0x90); // nops; never run, only loaded
  const data = Buffer.from('initialised data', 'latin1');
  return [
    { vaddr: TEXT_ADDR, data: text, flags: PF_R | PF_X },
    { vaddr: DATA_ADDR, data, memsz: 0x1800, flags: PF_R | PF_W },
  ];
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Builds the image: header, program headers, interp, notes, then each segment's bytes page-aligned. */
export function buildElf(opts: BuildOptions = {}): BuiltElf {
  const segments = opts.segments ?? defaultSegments();
  const abi = opts.abi ?? { target: 2, version: SN_ABI_VERSION };
  const each = opts.noteSegments === 'each';
  const notes = opts.notes ?? [
    ...(each ? [NOT_OPENBSD] : []),
    { owner: 'Solo5', type: ABI1, desc: abiDesc(abi.target, abi.version) },
    { owner: 'Solo5', type: MFT1, desc: mftDesc(opts.manifest ?? DEFAULT_MANIFEST) },
  ];
  const extra = opts.extraPhdrs ?? [];
  const interp = opts.interp === undefined ? '/nonexistent/solo5/' : opts.interp;
  const phnum = segments.length + extra.length + (each ? notes.length : 1) + (interp === false ? 0 : 1);
  const phoff = 64;
  let cursor = phoff + phnum * 56;
  const interpBytes = interp === false ? undefined : Buffer.from(`${interp}\0`, 'latin1');
  const interpOffset = cursor;
  if (interpBytes) cursor = align(cursor + interpBytes.length, 8);
  const noteAlign = opts.noteAlign ?? 4;
  const noteBlobs = notes.map((n) => encodeNote(n, noteAlign));
  const noteOffset = cursor;
  const noteHeaders: number[] = [];
  for (const n of noteBlobs) {
    noteHeaders.push(cursor);
    cursor += n.length;
  }
  const noteSize = cursor - noteOffset;
  const segOffsets = segments.map((s) => {
    cursor = align(cursor, 0x1000) + (s.vaddr % 0x1000);
    const at = cursor;
    cursor += s.data.length;
    return at;
  });
  const buf = Buffer.alloc(cursor);

  buf.writeUInt32LE(0x464c457f, 0);
  buf[4] = 2; // ELFCLASS64
  buf[5] = 1; // little-endian
  buf[6] = 1; // EV_CURRENT
  buf.writeUInt16LE(2, 16); // ET_EXEC
  buf.writeUInt16LE(62, 18); // EM_X86_64
  buf.writeUInt32LE(1, 20);
  buf.writeBigUInt64LE(BigInt(opts.entry ?? segments[0].vaddr), 24);
  buf.writeBigUInt64LE(BigInt(phoff), 32);
  buf.writeUInt16LE(64, 52);
  buf.writeUInt16LE(56, 54);
  buf.writeUInt16LE(phnum, 56);

  let ph = 0;
  const writePh = (type: number, flags: number, off: number, vaddr: number, filesz: number, memsz: number, al: number): number => {
    const o = phoff + ph * 56;
    buf.writeUInt32LE(type, o);
    buf.writeUInt32LE(flags, o + 4);
    buf.writeBigUInt64LE(BigInt(off), o + 8);
    buf.writeBigUInt64LE(BigInt(vaddr), o + 16);
    buf.writeBigUInt64LE(BigInt(vaddr), o + 24);
    buf.writeBigUInt64LE(BigInt(filesz), o + 32);
    buf.writeBigUInt64LE(BigInt(memsz), o + 40);
    buf.writeBigUInt64LE(BigInt(al), o + 48);
    return ph++;
  };
  let interpIndex: number | undefined;
  if (interpBytes) {
    interpBytes.copy(buf, interpOffset);
    interpIndex = writePh(PT_INTERP, PF_R, interpOffset, 0, interpBytes.length, interpBytes.length, 1);
  }
  const loads = segments.map((s, i) => {
    s.data.copy(buf, segOffsets[i]);
    return writePh(PT_LOAD, s.flags, segOffsets[i], s.vaddr, s.data.length, s.memsz ?? s.data.length, s.align ?? 0x1000);
  });
  for (const x of extra) writePh(x.type, x.flags, 0, x.vaddr, 0, x.memsz, x.align);
  const noteIndexes = each
    ? noteBlobs.map((n, i) => writePh(PT_NOTE, PF_R, noteHeaders[i], 0, n.length, n.length, noteAlign))
    : [writePh(PT_NOTE, PF_R, noteOffset, 0, noteSize, noteSize, noteAlign)];
  Buffer.concat(noteBlobs).copy(buf, noteOffset);
  return { buf, phoff, ph: { loads, note: noteIndexes[0], notes: noteIndexes, interp: interpIndex }, noteOffset, noteSize, noteHeaders };
}

type PhField = 'type' | 'flags' | 'offset' | 'vaddr' | 'filesz' | 'memsz' | 'align';
const PH_FIELDS: Record<PhField, [number, 4 | 8]> = {
  type: [0, 4],
  flags: [4, 4],
  offset: [8, 8],
  vaddr: [16, 8],
  filesz: [32, 8],
  memsz: [40, 8],
  align: [48, 8],
};

/**
 * An image laid out like Solo5's own linker script for its spt ABI: version
 * 2 has text, data, an empty tdata PT_LOAD at address 0, an empty PT_TLS and
 * a bss PT_LOAD without file bytes; version 1 keeps .bss in the data
 * segment's memsz. Notes each in their own PT_NOTE, not_openbsd first.
 */
export function buildSolo5Elf(version: 1 | 2, manifest: Manifest = DEFAULT_MANIFEST): BuiltElf {
  const common = { abi: { target: 2, version }, manifest, noteSegments: 'each' as const };
  // ABI 1: the default text and data (bss in data's memsz). ABI 2: bss split off, TLS placeholders.
  if (version === 1) return buildElf(common);
  const [text, data] = defaultSegments();
  return buildElf({
    ...common,
    segments: [text, { ...data, memsz: undefined }, { vaddr: DATA_ADDR + 0x1000, data: Buffer.alloc(0), memsz: 0x800, flags: PF_R | PF_W }],
    extraPhdrs: [
      { type: PT_LOAD, flags: PF_R, vaddr: 0, memsz: 0, align: 0x1000 },
      { type: PT_TLS, flags: 0, vaddr: 0, memsz: 0, align: 0 },
    ],
  });
}

/** Overwrites one field of program header `index` in place. */
export function setPh(e: BuiltElf, index: number, field: PhField, value: number | bigint): void {
  const [off, size] = PH_FIELDS[field];
  const at = e.phoff + index * 56 + off;
  if (size === 4) e.buf.writeUInt32LE(Number(value), at);
  else e.buf.writeBigUInt64LE(BigInt(value), at);
}

/** Offsets and sizes of the ELF header fields the tests damage. */
export const EH = {
  class: [4, 1],
  data: [5, 1],
  identVersion: [6, 1],
  type: [16, 2],
  machine: [18, 2],
  version: [20, 4],
  entry: [24, 8],
  phoff: [32, 8],
  ehsize: [52, 2],
  phentsize: [54, 2],
  phnum: [56, 2],
} as const;

export function setEh(e: BuiltElf, field: keyof typeof EH, value: number | bigint): void {
  const [off, size] = EH[field];
  if (size === 1) e.buf[off] = Number(value);
  else if (size === 2) e.buf.writeUInt16LE(Number(value), off);
  else if (size === 4) e.buf.writeUInt32LE(Number(value), off);
  else e.buf.writeBigUInt64LE(BigInt(value), off);
}
