/* sn_solo5.h: Solo5's own spt guest ABI (versions 1 and 2), as published; shared by its guest bindings and the tender. */
#ifndef SN_SOLO5_H
#define SN_SOLO5_H

/*
 * A unikernel built by upstream Solo5's toolchain (or by `solo5-build
 * --abi=solo5`) speaks this ABI, not the ring ABI of sn_abi.h: the guest makes
 * its own device system calls on host file descriptors that the tender opens
 * and names in the manifest copy. Every value here is a published Solo5 fact
 * (its spt_abi.h, elf_abi.h and mft_abi.h) and must be copied exactly; the
 * ELF notes and the manifest entry layout are in sn_abi.h, which both ABIs
 * share. lib/abi.ts mirrors this header; test/abi.test.ts compares them.
 */

#include "sn_abi.h"

/* ABI1 note versions of Solo5's spt ABI: 1 for Solo5 0.6.0-0.7.5, 2 since 0.8.0. */
#define SN_SOLO5_SPT_ABI_V1 1
#define SN_SOLO5_SPT_ABI_V2 2
/* Upstream hvt's current ABI1 version (sn_solo5_hvt.h describes that ABI, versions 1 and 2). */
#define SN_SOLO5_HVT_ABI_VERSION 2
/* Solo5's virtio bindings declare ABI version 1 always (virtio has no tender to agree with). */
#define SN_SOLO5_VIRTIO_ABI_VERSION 1

/* Guest memory: mapped from SN_SOLO5_HOST_MEM_BASE; images load at or above SN_SOLO5_GUEST_MIN_BASE. */
#define SN_SOLO5_HOST_MEM_BASE 0x10000ULL
#define SN_SOLO5_BOOT_INFO_BASE 0x11000ULL
#define SN_SOLO5_GUEST_MIN_BASE 0x100000ULL
/* The command line's room, including its NUL. */
#define SN_SOLO5_CMDLINE_SIZE 8192U
/* epoll data.u64 of the internal timerfd (~1U, zero-extended). */
#define SN_SOLO5_INTERNAL_TIMERFD 0xfffffffeULL
/* The initial %rsp is mem_size - SN_SOLO5_STACK_GAP; %rdi is the boot info. */
#define SN_SOLO5_STACK_GAP 8ULL

struct sn_solo5_boot_info {
    uint64_t mem_size; /* the whole --mem, including the unmapped first 64 KiB */
    uint64_t kernel_end; /* page-aligned end of the loaded (p_filesz != 0) segments */
    uint64_t cmdline; /* guest address of the NUL-terminated command line */
    uint64_t mft; /* guest address of the manifest copy: right after this struct */
    int32_t epollfd; /* host epoll fd the guest waits on in solo5_yield */
    int32_t timerfd; /* host timerfd in that epoll set, data SN_SOLO5_INTERNAL_TIMERFD */
};
SN_STATIC_ASSERT(sizeof(struct sn_solo5_boot_info) == 40, "solo5 spt boot info layout");

/* The manifest copy follows the boot info; the command line follows the manifest. */
#define SN_SOLO5_MFT_ADDR (SN_SOLO5_BOOT_INFO_BASE + 40ULL)

#endif /* SN_SOLO5_H */
