// constants.ts: the ELF64 numbers the loader checks, and the guest layout limits it enforces.

export const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_X86_64 = 62;
export const EHDR_SIZE = 64;
export const PHDR_SIZE = 56;

export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_NOTE = 4;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

/** More program headers than this is no unikernel a toolchain makes; refusing keeps parsing cheap. */
export const MAX_PHDRS = 64;
/**
 * PT_LOAD segments become regions of the helper's load plan, which holds
 * SN_PLAN_MAX_REGIONS (16); this leaves room for the tender's own regions.
 * Guest layout constants (SN_GUEST_MIN_BASE, SN_PAGE_SIZE) come from lib/abi.ts.
 */
export const MAX_LOAD_SEGMENTS = 8;
/** Largest file loadElf reads; unikernels with debug info are tens of MiB. */
export const MAX_FILE_SIZE = 1 << 30;
/**
 * Guest memory size to pass when only the notes matter (solo5-elftool query-*):
 * the top of the x86_64 user address space, so any plausible layout passes.
 */
export const QUERY_MEM_SIZE = 2 ** 47;
