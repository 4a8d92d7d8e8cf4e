/* hvt_notes.c: what identifies an ELF as an hvt unikernel: the ABI1 note (target 1) and the PT_INTERP trap. */
#include "bindings.h"

/*
 * The ABI1 note as the seven 32-bit words an ELF note is: namesz, descsz,
 * type, the owner name "Solo5\0" padded to 8 bytes (little-endian words),
 * then struct sn_abi1_desc. The linker script keeps the section and puts it
 * in the PT_NOTE segment; solo5-elftool query-abi reads it back.
 */
__attribute__((section(".note.solo5.abi"), aligned(4), used))
static const uint32_t hvt_abi1_note[7] = {
    sizeof SN_NOTE_NAME,
    sizeof(struct sn_abi1_desc),
    SN_NOTE_TYPE_ABI,
    0x6f6c6f53U, /* "Solo" */
    0x00000035U, /* "5", NUL, padding */
    SN_ABI_TARGET_HVT,
    SN_ABI_VERSION,
};
SN_STATIC_ASSERT(sizeof SN_NOTE_NAME == 6, "the owner name fills two words with its padding");

/*
 * An hvt unikernel is also a valid x86_64 Linux executable; run directly it
 * would execute guest code on the host until its first privileged
 * instruction. The interpreter path does not exist, so execve fails instead.
 */
__attribute__((section(".interp"), used))
static const char hvt_interp[] = "/nonexistent/solo5-node/hvt";
