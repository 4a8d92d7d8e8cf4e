/* sn_solo5_hvt.h: Solo5's own hvt guest ABI (ABI1 note versions 1 and 2), as published; shared by its guest bindings, the helper and the tender. */
#ifndef SN_SOLO5_HVT_H
#define SN_SOLO5_HVT_H

/*
 * A unikernel built by upstream Solo5's toolchain for hvt (or by
 * `solo5-build --abi=solo5 --target=hvt`) speaks this ABI, not the ring ABI
 * of sn_hvt_abi.h: it runs in ring 0, enters with RDI at a boot info at
 * SN_SOLO5_HVT_BOOT_INFO, and asks the tender for everything with a 32-bit
 * `out` to port SN_SOLO5_HVT_PORT_BASE + nr whose value is the guest address
 * of an argument struct. Every value here is a published Solo5 fact (its
 * hvt_abi.h, hvt_ring.h and the hvt tender's boot protocol), written from
 * /work/shared/solo5-hvt-abi.md; none may change. The ELF notes and the
 * manifest entry layout are sn_abi.h's, shared by every ABI.
 *
 * Three variants share ABI version 2 (0.8: 1 GiB max, 40-byte boot info;
 * 0.9-0.10: 4 GiB; 0.11-0.12: a 56-byte boot info offering a net ring);
 * version 1 (0.6-0.7) has the same hypercalls and 40-byte boot info. A
 * tender offering no ring (host_features 0) runs them all, provided guest
 * memory starts zeroed: an old guest reads only the first 40 bytes, a new
 * one finds zeros after them and uses the hypercalls.
 */

#define SN_SOLO5_HVT_ABI_V1 1
#define SN_SOLO5_HVT_ABI_V2 2

/* Hypercalls: `outl` to SN_SOLO5_HVT_PORT_BASE + nr, EAX = low 32 bits of the struct's address. */
#define SN_SOLO5_HVT_PORT_BASE 0x500U
#define SN_SOLO5_HVT_HC_WALLTIME 1U
#define SN_SOLO5_HVT_HC_PUTS 2U
#define SN_SOLO5_HVT_HC_POLL 3U
#define SN_SOLO5_HVT_HC_BLOCK_WRITE 4U
#define SN_SOLO5_HVT_HC_BLOCK_READ 5U
#define SN_SOLO5_HVT_HC_NET_WRITE 6U
#define SN_SOLO5_HVT_HC_NET_READ 7U
#define SN_SOLO5_HVT_HC_HALT 8U
/* Ports [BASE, BASE + MAX) may carry a hypercall; 0 (port 0x500) is reserved and fatal. */
#define SN_SOLO5_HVT_HC_MAX 9U
#define SN_SOLO5_HVT_PORT(nr) (SN_SOLO5_HVT_PORT_BASE + (nr))
/* 0.11+: the guest's ring kick, an `outl` of the ring id (0) served by an ioeventfd. */
#define SN_SOLO5_HVT_RING_KICK_PORT 0x600U

/*
 * The helper's fds while such a guest runs: 3 the POLL epoll set and 4 its
 * timerfd (as on spt: SN_FD_SOLO5_EPOLL, SN_FD_SOLO5_TIMER), the device fds
 * from SN_FD_DEV0 in plan order, then the vCPU. In the plan, a "doorbell"
 * count of 1 means the fd after the device fds is the net ring's kick
 * eventfd (registered on port 0x600, then closed); the KVM device follows.
 */
#define SN_SOLO5_HVT_FD_VCPU(ndevfds) (SN_FD_DEV0 + (int)(ndevfds))

/* solo5_result_t, written into a struct's ret. */
#define SN_SOLO5_R_OK 0
#define SN_SOLO5_R_AGAIN 1
#define SN_SOLO5_R_EINVAL 2
#define SN_SOLO5_R_EUNSPEC 3

/* A HALT cookie (the guest's trap frame on a CPU exception) is checked for this many bytes. */
#define SN_SOLO5_HVT_HALT_COOKIE_MAX 512U

/*
 * The helper's diagnostics stream (fd 2) is silent while a guest runs, except
 * for this ABI: a guest that breaks the protocol, or a host I/O failure, ends
 * the tender with status 1 and upstream's words on stderr. Such a line starts
 * with this byte, so that the tender tells it from a set-up failure (the
 * guest never ran) and prints it as it is. A helper exec'd in place (no
 * tender) writes "<argv[0]>: <line>" instead, as the tender would print it.
 */
#define SN_SOLO5_HVT_DIAG_RUNNING 0x07U

/* boot info host_features bit 0: a net ring is offered at net_ring. */
#define SN_SOLO5_HVT_FEATURE_RING_IO 1U

/*
 * Guest physical memory, identity mapped, as upstream's tender lays it out
 * (guests only follow RDI to the boot info, so only "below the kernel at
 * 1 MiB" binds; matching upstream exactly is the safe choice).
 */
#define SN_SOLO5_HVT_GDT 0x1000ULL
#define SN_SOLO5_HVT_PML4 0x2000ULL
#define SN_SOLO5_HVT_PDPT 0x3000ULL
#define SN_SOLO5_HVT_PD 0x4000ULL /* four page directories, 0x4000-0x7fff */
#define SN_SOLO5_HVT_PD_COUNT 4U
#define SN_SOLO5_HVT_PT0 0x8000ULL /* 4 KiB pages of the first 2 MiB */
#define SN_SOLO5_HVT_BOOT_INFO 0x10000ULL
/* Pages [BOOT_INFO, KERNEL_MIN) are mapped read-only in the guest, [KERNEL_MIN, 2 MiB) read/write. */
#define SN_SOLO5_HVT_KERNEL_MIN 0x100000ULL
#define SN_SOLO5_HVT_CMDLINE_SIZE 8192U
#define SN_SOLO5_HVT_PAGE_2M 0x200000ULL
/* Largest guest memory: 4 GiB (0.9+; 0.8 had 1 GiB, a limit of that tender only). */
#define SN_SOLO5_HVT_MEM_MAX 0x100000000ULL
#define SN_SOLO5_HVT_MEM_DEFAULT (512ULL << 20)
/* RSP at entry is mem_size - STACK_GAP: (RSP + 8) 16-byte aligned, no return address. */
#define SN_SOLO5_HVT_STACK_GAP 8ULL

/* CPU state at entry (KVM_SET_SREGS). */
#define SN_SOLO5_HVT_CR0 0x80010021ULL /* PE NE WP PG */
#define SN_SOLO5_HVT_CR4 0x620ULL /* PAE OSFXSR OSXMMEXCPT */
#define SN_SOLO5_HVT_EFER 0x500ULL /* LME LMA */
#define SN_SOLO5_HVT_GDT_CODE 0x00af99000000ffffULL
#define SN_SOLO5_HVT_GDT_DATA 0x00cf93000000ffffULL
#define SN_SOLO5_HVT_SEL_CODE 0x08U
#define SN_SOLO5_HVT_SEL_DATA 0x10U
#define SN_SOLO5_HVT_GDT_LIMIT 23U

/* Page table entry bits used by the tender's tables. */
#define SN_SOLO5_HVT_PTE_P 0x1ULL
#define SN_SOLO5_HVT_PTE_RW 0x2ULL
#define SN_SOLO5_HVT_PTE_PS 0x80ULL

#ifndef __ASSEMBLER__

#include "sn_abi.h"

/* A guest physical address: a value to check, never a pointer (see helper_hvt_mem.h). */
typedef struct {
    uint64_t v;
} sn_gpa;

/*
 * The boot info at SN_SOLO5_HVT_BOOT_INFO, followed by the manifest copy
 * (SN_MFT_SIZE(entries) bytes) and the command line (CMDLINE_SIZE bytes).
 * The first 40 bytes are every variant's; 0.11+ guests read all 56.
 */
struct sn_solo5_hvt_boot_info {
    uint64_t mem_size; /* guest-visible bytes: the top of the stack; excludes a ring area */
    uint64_t kernel_end; /* page-aligned end of the file-backed segments */
    uint64_t cpu_cycle_freq; /* TSC Hz */
    uint64_t cmdline; /* guest address of the NUL-terminated command line */
    uint64_t mft; /* guest address of the manifest copy */
    uint32_t host_features; /* 0.11+: SN_SOLO5_HVT_FEATURE_RING_IO when a ring is offered */
    uint32_t guest_features; /* always 0 (the page is read-only to the guest) */
    uint64_t net_ring; /* 0.11+: guest address of struct sn_solo5_hvt_ring, or 0 */
};
#define SN_SOLO5_HVT_BOOT_INFO_V1_SIZE 40U /* ABI 1, and ABI 2 before 0.11 */
#define SN_SOLO5_HVT_BOOT_INFO_SIZE 56U
SN_STATIC_ASSERT(sizeof(struct sn_solo5_hvt_boot_info) == SN_SOLO5_HVT_BOOT_INFO_SIZE,
                 "solo5 hvt boot info layout");
SN_STATIC_ASSERT(__builtin_offsetof(struct sn_solo5_hvt_boot_info, host_features) ==
                     SN_SOLO5_HVT_BOOT_INFO_V1_SIZE,
                 "solo5 hvt boot info: the 0.11 fields follow the 40 old bytes");
#define SN_SOLO5_HVT_MFT_ADDR (SN_SOLO5_HVT_BOOT_INFO + SN_SOLO5_HVT_BOOT_INFO_SIZE)

/* Hypercall argument structs: little-endian, natural alignment, exactly upstream's. */
struct sn_solo5_hvt_walltime {
    uint64_t nsecs; /* out: CLOCK_REALTIME, ns since the epoch */
};
SN_STATIC_ASSERT(sizeof(struct sn_solo5_hvt_walltime) == 8, "hvt walltime layout");

struct sn_solo5_hvt_puts {
    uint64_t data; /* guest address */
    uint64_t len;
};
SN_STATIC_ASSERT(sizeof(struct sn_solo5_hvt_puts) == 16, "hvt puts layout");

struct sn_solo5_hvt_poll {
    uint64_t timeout_nsecs; /* in: relative */
    uint64_t ready_set; /* out: bit i for each ready net handle i */
    int32_t ret; /* out: number of ready devices */
    uint32_t pad;
};
SN_STATIC_ASSERT(sizeof(struct sn_solo5_hvt_poll) == 24, "hvt poll layout");
SN_STATIC_ASSERT(__builtin_offsetof(struct sn_solo5_hvt_poll, ret) == 16, "hvt poll ret");

/* BLOCK_WRITE and BLOCK_READ. */
struct sn_solo5_hvt_blkio {
    uint64_t handle; /* manifest index; truncated to 32 bits before the check */
    uint64_t offset; /* bytes */
    uint64_t data; /* guest address */
    uint64_t len;
    int32_t ret; /* out */
    uint32_t pad;
};
SN_STATIC_ASSERT(sizeof(struct sn_solo5_hvt_blkio) == 40, "hvt blkio layout");
SN_STATIC_ASSERT(__builtin_offsetof(struct sn_solo5_hvt_blkio, ret) == 32, "hvt blkio ret");

/* NET_WRITE and NET_READ (len is in/out for NET_READ). */
struct sn_solo5_hvt_netio {
    uint64_t handle;
    uint64_t data;
    uint64_t len;
    int32_t ret; /* out */
    uint32_t pad;
};
SN_STATIC_ASSERT(sizeof(struct sn_solo5_hvt_netio) == 32, "hvt netio layout");
SN_STATIC_ASSERT(__builtin_offsetof(struct sn_solo5_hvt_netio, ret) == 24, "hvt netio ret");

struct sn_solo5_hvt_halt {
    uint64_t cookie; /* in: guest address of a trap frame, or 0 */
    int32_t exit_status;
    uint32_t pad;
};
SN_STATIC_ASSERT(sizeof(struct sn_solo5_hvt_halt) == 16, "hvt halt layout");

/*
 * 0.11+ net ring (upstream's hvt_ring.h layout), in the last 2 MiB of the
 * allocation at GPA boot_info.mem_size when a net device is attached.
 * Indices are free-running u32; slot = index & (SN_SOLO5_HVT_RING_SLOTS - 1).
 * The guest writes ent_tail and com_head, the host everything on line 1.
 */
#define SN_SOLO5_HVT_RING_SLOTS 1024U
#define SN_SOLO5_HVT_RING_OP_NET_WRITE 1U
#define SN_SOLO5_HVT_RING_OP_NET_READ 2U
#define SN_SOLO5_HVT_RING_AREA SN_SOLO5_HVT_PAGE_2M /* reserved even when not offered */

struct sn_solo5_hvt_ring_entry {
    uint32_t operation;
    uint32_t handle;
    uint64_t data; /* guest address */
    uint32_t len;
    uint32_t id;
    uint64_t reserved;
};
SN_STATIC_ASSERT(sizeof(struct sn_solo5_hvt_ring_entry) == 32, "hvt ring entry layout");

struct sn_solo5_hvt_ring_commit {
    uint32_t id;
    int32_t ret;
    uint32_t len;
    uint32_t reserved;
};
SN_STATIC_ASSERT(sizeof(struct sn_solo5_hvt_ring_commit) == 16, "hvt ring commit layout");

struct sn_solo5_hvt_ring {
    uint32_t ent_tail; /* guest */
    uint32_t com_head; /* guest */
    uint8_t pad0[56];
    uint32_t ent_head; /* host */
    uint32_t com_tail; /* host */
    uint32_t needs_kick; /* host: the guest must kick port 0x600 */
    uint8_t pad1[52];
    struct sn_solo5_hvt_ring_entry ent[SN_SOLO5_HVT_RING_SLOTS];
    struct sn_solo5_hvt_ring_commit com[SN_SOLO5_HVT_RING_SLOTS];
};
SN_STATIC_ASSERT(sizeof(struct sn_solo5_hvt_ring) == 49280, "hvt ring size");
SN_STATIC_ASSERT(__builtin_offsetof(struct sn_solo5_hvt_ring, ent_head) == 64, "hvt ring host line");
SN_STATIC_ASSERT(__builtin_offsetof(struct sn_solo5_hvt_ring, ent) == 128, "hvt ring entries");
SN_STATIC_ASSERT(__builtin_offsetof(struct sn_solo5_hvt_ring, com) == 32896, "hvt ring commits");
SN_STATIC_ASSERT(sizeof(struct sn_solo5_hvt_ring) <= SN_SOLO5_HVT_RING_AREA, "ring fits its area");

#endif /* __ASSEMBLER__ */

#endif /* SN_SOLO5_HVT_H */
