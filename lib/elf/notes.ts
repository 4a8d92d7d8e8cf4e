// notes.ts: walks ELF note areas (untrusted bytes) and picks out the Solo5 ABI1 and MFT1 notes.
import { ElfError } from '../errors.js';
import { SN_ABI_TARGET_HVT, SN_ABI_TARGET_SPT, SN_ABI_VERSION, SN_NOTE_NAME, SN_NOTE_TYPE_ABI, SN_NOTE_TYPE_MFT } from '../abi.js';

const OWNER = Buffer.from(`${SN_NOTE_NAME}\0`, 'latin1');

/** The Solo5 notes found so far; each must be seen exactly once in the whole file. */
export interface SoloNotes {
  abi: Buffer[];
  mft: Buffer[];
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * Walks the notes in `area` (a PT_NOTE segment's bytes, already known to lie
 * inside the file). Sizes come from the file and may lie: every size is
 * checked against the area before it is used, and each note advances the
 * cursor by at least its 12-byte header, so the walk always ends. `align` is
 * the segment's p_align: 8-aligned note areas (GNU property notes) pad name
 * and descriptor to 8, everything else to 4.
 */
export function collectNotes(file: string, where: string, area: Buffer, align: number, into: SoloNotes): void {
  const pad = align === 8 ? 8 : 4;
  const up = (n: number): number => Math.ceil(n / pad) * pad;
  let off = 0;
  while (off < area.length) {
    const at = `${where}: note at offset ${hex(off)}`;
    if (area.length - off < 12) throw new ElfError(file, `${at}: truncated note header`);
    const namesz = area.readUInt32LE(off);
    const descsz = area.readUInt32LE(off + 4);
    const type = area.readUInt32LE(off + 8);
    const nameOff = off + 12;
    const descOff = nameOff + up(namesz);
    if (descOff > area.length) {
      throw new ElfError(file, `${at}: namesz ${namesz} runs past the end of the note area`);
    }
    if (descOff + descsz > area.length) {
      throw new ElfError(file, `${at}: descsz ${descsz} runs past the end of the note area`);
    }
    // A last note whose padding the linker trimmed is fine: the cursor just lands past the end.
    off = descOff + up(descsz);
    if (namesz !== OWNER.length || area.compare(OWNER, 0, OWNER.length, nameOff, nameOff + namesz) !== 0) continue;
    const desc = area.subarray(descOff, descOff + descsz);
    if (type === SN_NOTE_TYPE_ABI) into.abi.push(desc);
    else if (type === SN_NOTE_TYPE_MFT) into.mft.push(desc);
  }
}

/** Target and version from the single ABI1 note (untrusted). */
export function decodeAbiNote(file: string, desc: Buffer): { target: 'spt' | 'hvt'; version: number } {
  if (desc.length !== 8) throw new ElfError(file, `ABI1 note: descriptor is ${desc.length} bytes, expected 8`);
  const targetCode = desc.readUInt32LE(0);
  const version = desc.readUInt32LE(4);
  let target: 'spt' | 'hvt';
  if (targetCode === SN_ABI_TARGET_SPT) target = 'spt';
  else if (targetCode === SN_ABI_TARGET_HVT) target = 'hvt';
  else throw new ElfError(file, `ABI1 note: unknown target ${targetCode} (1 = hvt, 2 = spt)`);
  if (version !== SN_ABI_VERSION) {
    throw new ElfError(file, `ABI1 note: ABI version ${version}, this tender supports ${SN_ABI_VERSION}`);
  }
  return { target, version };
}

/** Insists on exactly one note of a kind. */
export function exactlyOne(file: string, kind: string, found: Buffer[]): Buffer {
  if (found.length === 0) throw new ElfError(file, `no ${kind} note (not a Solo5 unikernel?)`);
  if (found.length > 1) throw new ElfError(file, `${found.length} ${kind} notes, expected exactly one`);
  return found[0];
}
