/* abi_v2.c: the ABI1 note of a Solo5 spt ABI 2 unikernel (Solo5 0.8.0 and later). */
#include "bindings.h"
#include "sn_solo5.h"

SN_ABI1_NOTE(SN_ABI_TARGET_SPT, SN_SOLO5_SPT_ABI_V2);
