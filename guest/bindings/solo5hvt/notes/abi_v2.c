/* abi_v2.c: the ABI1 note of a Solo5 hvt ABI 2 unikernel (Solo5 0.8.0 and later), and the version for the bindings' code. */
#include "s5h.h"

SN_ABI1_NOTE(SN_ABI_TARGET_HVT, SN_SOLO5_HVT_ABI_V2);
const uint32_t s5h_abi_version = SN_SOLO5_HVT_ABI_V2;
