/* spt_notes.c: the ABI1 note that identifies an ELF as a ring-ABI spt unikernel. */
#include "bindings.h"

/*
 * Target spt, version SN_ABI_VERSION: the ring ABI's number, which no Solo5
 * release uses, so upstream tenders refuse these binaries by name. PT_INTERP
 * and the "not OpenBSD" note come from common/notes.c.
 */
SN_ABI1_NOTE(SN_ABI_TARGET_SPT, SN_ABI_VERSION);
