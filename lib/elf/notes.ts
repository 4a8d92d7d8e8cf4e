// notes.ts: walks ELF note areas (untrusted bytes) and picks out the Solo5 ABI1 and MFT1 notes, in Solo5's published layout.
import { ElfError, upstreamSays } from '../errors.js';
import { SN_NOTE_ABI1_MAX, SN_NOTE_MFT1_MAX, SN_NOTE_MFT1_PAD, SN_NOTE_NAME, SN_NOTE_TYPE_ABI, SN_NOTE_TYPE_MFT } from '../abi.js';

const OWNER = Buffer.from(`${SN_NOTE_NAME}\0`, 'latin1');

/** The Solo5 notes found so far (descriptors as stored); each must be seen exactly once in the whole file. */
export interface SoloNotes {
  abi: Buffer[];
  mft: Buffer[];
}

/** What an ABI1 note says, before anyone decides whether it can be run. */
export interface AbiNote {
  /** Solo5's abi_target: 1 hvt, 2 spt, 3 virtio, 4 muen, 5 genode, 6 xen. */
  target: number;
  version: number;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** A note whose sizes do not fit its area or its kind: upstream's loader words it so (its "buggyelf" test greps them). */
function badNoteSize(file: string, why: string): ElfError {
  return upstreamSays(new ElfError(file, why), `${file}: invalid executable: note does not fall within valid size`);
}

/**
 * Walks the notes in `area` (a PT_NOTE segment's bytes, already known to lie
 * inside the file). Sizes come from the file and may lie: every size is
 * checked against the area before it is used, and each note advances the
 * cursor by at least its 12-byte header, so the walk always ends. Solo5's
 * own binaries put each note alone in its PT_NOTE; older layouts and other
 * linkers share one, so every note of the area is looked at. `align` is the
 * segment's p_align: 8-aligned note areas pad to 8, everything else to 4.
 * The owner "Solo5" (namesz 6) pads its name to 8 either way, so a Solo5
 * descriptor always starts at note offset 20; other owners' notes (GNU's
 * .note.gnu.property in every static glibc binary) are walked as the gABI lays
 * them out, and skipped.
 */
export function collectNotes(file: string, where: string, area: Buffer, align: number, into: SoloNotes): void {
  const pad = align === 8 ? 8 : 4;
  // Offsets from the area's start, which is itself aligned: note starts are multiples of pad.
  const up = (n: number): number => Math.ceil(n / pad) * pad;
  let off = 0;
  while (off < area.length) {
    const at = `${where}: note at offset ${hex(off)}`;
    if (area.length - off < 12) throw badNoteSize(file, `${at}: truncated note header`);
    const namesz = area.readUInt32LE(off);
    const descsz = area.readUInt32LE(off + 4);
    const type = area.readUInt32LE(off + 8);
    const nameOff = off + 12;
    if (nameOff + namesz > area.length) {
      throw badNoteSize(file, `${at}: namesz ${namesz} runs past the end of the note area`);
    }
    const solo5 = namesz === OWNER.length && area.compare(OWNER, 0, OWNER.length, nameOff, nameOff + namesz) === 0;
    // Other owners follow the gABI as readelf reads them: the descriptor at the note's start plus
    // 12 + namesz rounded up to the alignment (GNU's 8-aligned .note.gnu.property puts it at 16).
    const descOff = solo5 ? nameOff + up(namesz) : off + up(12 + namesz);
    if (descOff > area.length) {
      throw badNoteSize(file, `${at}: namesz ${namesz} runs past the end of the note area`);
    }
    if (descOff + descsz > area.length) {
      throw badNoteSize(file, `${at}: descsz ${descsz} runs past the end of the note area`);
    }
    // A last note whose padding the linker trimmed is fine: the cursor just lands past the end.
    off = descOff + up(descsz);
    if (!solo5) continue;
    const desc = area.subarray(descOff, descOff + descsz);
    if (type === SN_NOTE_TYPE_ABI) into.abi.push(desc);
    else if (type === SN_NOTE_TYPE_MFT) into.mft.push(desc);
  }
}

/**
 * Target and version from the ABI1 descriptor (untrusted). Solo5 writes 16
 * bytes (target, version, two reserved words) and its readers accept up to
 * 32; fewer than 16 is refused, because the 8-byte notes of solo5-node
 * before 0.2 would otherwise pass for Solo5's ABI version 1.
 */
export function decodeAbiNote(file: string, desc: Buffer): AbiNote {
  if (desc.length < 16 || desc.length > SN_NOTE_ABI1_MAX) {
    throw badNoteSize(
      file,
      `ABI1 note: descriptor is ${desc.length} bytes, Solo5's is 16 (at most ${SN_NOTE_ABI1_MAX})` +
        (desc.length === 8 ? "; rebuild it: solo5-node now writes Solo5's note layout" : ''),
    );
  }
  return { target: desc.readUInt32LE(0), version: desc.readUInt32LE(4) };
}

/**
 * The manifest inside an MFT1 descriptor (untrusted): Solo5 aligns the
 * manifest to 8 bytes, so the descriptor starts with 4 padding bytes that
 * n_descsz counts (their value is not part of the interface).
 */
export function mftFromNote(file: string, desc: Buffer): Buffer {
  if (desc.length <= SN_NOTE_MFT1_PAD || desc.length > SN_NOTE_MFT1_MAX) {
    throw badNoteSize(file, `MFT1 note: descriptor is ${desc.length} bytes, expected ${SN_NOTE_MFT1_PAD + 1} to ${SN_NOTE_MFT1_MAX}`);
  }
  return desc.subarray(SN_NOTE_MFT1_PAD);
}

/** Insists on exactly one note of a kind. */
export function exactlyOne(file: string, kind: 'ABI1' | 'MFT1', found: Buffer[]): Buffer {
  if (found.length === 0) {
    const upstream = kind === 'ABI1' ? 'No Solo5 ABI information found in executable' : 'No Solo5 manifest found in executable';
    throw upstreamSays(new ElfError(file, `no ${kind} note (not a Solo5 unikernel?)`), `${file}: ${upstream}`);
  }
  if (found.length > 1) throw new ElfError(file, `${found.length} ${kind} notes, expected exactly one`);
  return found[0];
}
