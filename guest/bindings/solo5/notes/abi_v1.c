/* abi_v1.c: the ABI1 note of a Solo5 spt ABI 1 unikernel (Solo5 0.6.0 to 0.7.5). */
#include "bindings.h"
#include "sn_solo5.h"

SN_ABI1_NOTE(SN_ABI_TARGET_SPT, SN_SOLO5_SPT_ABI_V1);
