/* hvt_notes.c: the ABI1 note that identifies an ELF as a ring-ABI hvt unikernel. */
#include "bindings.h"

/*
 * Target hvt, version SN_ABI_VERSION (the ring ABI's number, not upstream
 * hvt's). An hvt unikernel run directly on the host would execute guest
 * code until its first privileged instruction; common/notes.c's PT_INTERP
 * makes execve fail instead.
 */
SN_ABI1_NOTE(SN_ABI_TARGET_HVT, SN_ABI_VERSION);
