/* virtio_notes.c: the ABI1 note of a Solo5 virtio unikernel (target 3, version 1, as Solo5's virtio bindings declare it). */
#include "bindings.h"
#include "sn_solo5.h"

SN_ABI1_NOTE(SN_ABI_TARGET_VIRTIO, SN_SOLO5_VIRTIO_ABI_VERSION);
