// abi-kind.ts: which guest ABI an ELF speaks (the project's ring ABI or Solo5's spt ABI), from its ABI1 note.
import * as abi from '../abi';
import type { LoadedElf } from '../elf';

/** The guest ABI launch() must speak to this ELF. */
export type GuestAbi =
  | { kind: 'ring'; target: 'spt' | 'hvt'; version: number }
  | { kind: 'solo5'; target: 'spt'; version: 1 | 2 };

/*
 * The ELF loader decides (it refuses what no tender here runs); this reads
 * its verdict. An older loader without `kind` knew only the ring ABI.
 */
export function elfAbi(elf: LoadedElf): GuestAbi {
  const a: { target: 'spt' | 'hvt'; version: number; kind?: string } = elf.abi;
  if (a.kind === 'solo5' && a.target === 'spt' && (a.version === abi.SN_SOLO5_SPT_ABI_V1 || a.version === abi.SN_SOLO5_SPT_ABI_V2)) {
    return { kind: 'solo5', target: 'spt', version: a.version };
  }
  return { kind: 'ring', target: a.target, version: a.version };
}

/**
 * Solo5's kernel_end: the page-aligned end of the segments its loader loads,
 * which since ABI 2 skips those with no file contents (so .bss is not
 * counted); ABI 1 counted every PT_LOAD.
 */
export function solo5KernelEnd(elf: LoadedElf, version: 1 | 2): number {
  if ('solo5KernelEnd' in elf && typeof elf.solo5KernelEnd === 'number') return elf.solo5KernelEnd;
  let end = 0;
  for (const s of elf.segments) {
    if (version === 2 && s.filesz === 0) continue;
    end = Math.max(end, Math.ceil((s.vaddr + s.memsz) / abi.SN_PAGE_SIZE) * abi.SN_PAGE_SIZE);
  }
  return end;
}
