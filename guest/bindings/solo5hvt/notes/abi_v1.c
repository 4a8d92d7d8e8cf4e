/* abi_v1.c: the ABI1 note of a Solo5 hvt ABI 1 unikernel (Solo5 0.6.0 to 0.7.5), and the version for the bindings' code. */
#include "s5h.h"

SN_ABI1_NOTE(SN_ABI_TARGET_HVT, SN_SOLO5_HVT_ABI_V1);
const uint32_t s5h_abi_version = SN_SOLO5_HVT_ABI_V1;
