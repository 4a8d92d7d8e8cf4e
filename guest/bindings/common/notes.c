/* notes.c: the parts of every unikernel's ELF identity that do not depend on the ABI: PT_INTERP and the "not OpenBSD" note. */
#include "bindings.h"

/*
 * A unikernel is a valid x86_64 executable, so exec'ing it by mistake would
 * run guest code directly on the host, unconfined. Naming an interpreter
 * that does not exist makes the kernel refuse the exec with ENOENT instead
 * (the shell reports "No such file or directory" and 127). The bytes are
 * Solo5's: the path, NUL-padded to SN_INTERP_SIZE, 8-byte aligned. The
 * linker script puts this section in the PT_INTERP segment.
 */
__attribute__((section(".interp"), aligned(8), used)) static const char sn_interp[SN_INTERP_SIZE] =
    SN_INTERP_PATH;
SN_STATIC_ASSERT(sizeof SN_INTERP_PATH <= SN_INTERP_SIZE, "the interp path fits with its NUL");

/*
 * OpenBSD runs a static binary's PT_INTERP trick only for binaries it
 * recognises as its own, by this note in the first PT_NOTE. Solo5 tenders
 * skip it (its owner is not "Solo5"). An ELF note as 32-bit words: namesz
 * 8, descsz 4, type 1 (NT_VERSION), "OpenBSD\0", descriptor 0.
 */
__attribute__((section(".note.solo5.not_openbsd"), aligned(4),
               used)) static const uint32_t sn_not_openbsd_note[6] = {
    8,           4, 1, 0x6e65704fU, /* "Open" */
    0x00445342U, /* "BSD\0" */
    0,
};
