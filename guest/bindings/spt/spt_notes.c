/* spt_notes.c: what identifies an ELF as an spt unikernel: the ABI1 note and the PT_INTERP trap. */
#include "bindings.h"

/*
 * The ABI1 note tells the tender which target and ABI version the bindings
 * were built for; solo5-elftool query-abi prints it. Layout, as the ELF note
 * format requires: namesz, descsz, type, then the owner name "Solo5" padded
 * to 8 bytes, then the descriptor (struct sn_abi1_desc). spt.ld keeps the
 * section (it is referenced by nothing) and places it in the PT_NOTE segment.
 */
struct spt_abi1_note {
    uint32_t namesz;
    uint32_t descsz;
    uint32_t type;
    char name[8];
    struct sn_abi1_desc desc;
};
SN_STATIC_ASSERT(sizeof(struct spt_abi1_note) == 28, "ABI1 note has no padding");

__attribute__((section(".note.solo5.abi"), aligned(4), used))
static const struct spt_abi1_note spt_abi1_note = {
    .namesz = sizeof SN_NOTE_NAME,
    .descsz = sizeof(struct sn_abi1_desc),
    .type = SN_NOTE_TYPE_ABI,
    .name = SN_NOTE_NAME,
    .desc = { .target = SN_ABI_TARGET_SPT, .version = SN_ABI_VERSION },
};

/*
 * An spt unikernel is a valid x86_64 Linux executable, so exec'ing it by
 * mistake would run guest code directly on the host, unconfined. Naming an
 * interpreter that does not exist makes the kernel refuse the exec with
 * ENOENT instead: the shell reports "No such file or directory" and 127.
 * spt.ld puts this section in the PT_INTERP segment.
 */
__attribute__((section(".interp"), used))
static const char spt_interp[] = "/nonexistent/solo5-node/spt";
