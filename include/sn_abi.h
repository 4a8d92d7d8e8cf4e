/* sn_abi.h: the guest/tender contract shared by the guest bindings, the helper and the addon. */
#ifndef SN_ABI_H
#define SN_ABI_H

/*
 * Everything in this header is part of the ABI between three separately built
 * pieces: freestanding guest bindings (guest/), the static exec'd helper
 * (addon/helper/) and the N-API addon (addon/). The TypeScript side mirrors the
 * layouts in lib/abi.ts; test/abi.test.ts checks them against the addon's
 * offsetof() values. Bump SN_ABI_VERSION on any incompatible change.
 * docs/abi.md is the prose version of this file.
 */

#ifdef __cplusplus
#include <cstdint>
#define SN_STATIC_ASSERT static_assert
#else
#include <stdint.h>
#define SN_STATIC_ASSERT _Static_assert
#endif

/*
 * The ring ABI's version, in the ABI1 note, the boot info, the plan and the
 * ring header. Solo5's own releases number their ABIs 1 and 2 (sn_solo5.h);
 * this ABI counts from 1000 so that no upstream tool mistakes one of our
 * binaries for theirs: 1000 + the ring ABI's revision.
 */
#define SN_ABI_VERSION 1001

/* ABI1 note targets (Solo5's published numbering). */
#define SN_ABI_TARGET_HVT 1
#define SN_ABI_TARGET_SPT 2
/* Solo5's virtio target (Multiboot kernels under QEMU; solo5-virtio-run). */
#define SN_ABI_TARGET_VIRTIO 3

/* ELF notes: owner name "Solo5" (namesz 6, including the NUL). */
#define SN_NOTE_NAME "Solo5"
#define SN_NOTE_TYPE_MFT 0x3154464dU /* "MFT1" little-endian */
#define SN_NOTE_TYPE_ABI 0x31494241U /* "ABI1" little-endian */

/*
 * Note descriptors are aligned inside the note: ABI1's to 4 (it starts right
 * after the 8-byte owner name, at note offset 20), MFT1's to 8 (its manifest
 * holds 64-bit fields), so an MFT1 descriptor begins with 4 padding bytes
 * that n_descsz counts. The largest descriptors a reader accepts are Solo5's.
 */
#define SN_NOTE_HEADER_SIZE 20U
#define SN_NOTE_ABI1_ALIGN 4U
#define SN_NOTE_MFT1_ALIGN 8U
#define SN_NOTE_MFT1_PAD 4U
#define SN_NOTE_ABI1_MAX 32U
#define SN_NOTE_MFT1_MAX (12U + 104U * 64U)

/* The ABI1 descriptor: Solo5's 16 bytes, whatever the ABI. */
struct sn_abi1_desc {
    uint32_t target;    /* SN_ABI_TARGET_* */
    uint32_t version;   /* SN_ABI_VERSION, or a Solo5 version (sn_solo5.h) */
    uint32_t reserved0; /* 0 */
    uint32_t reserved1; /* 0 */
};
SN_STATIC_ASSERT(sizeof(struct sn_abi1_desc) == 16, "abi1 desc layout");

/* PT_INTERP of every unikernel: a path that cannot exist, so the host kernel refuses to exec it. */
#define SN_INTERP_PATH "/nonexistent/solo5/"
#define SN_INTERP_SIZE 24U

/* ------------------------------------------------------------------------
 * MFT1: the application manifest. Stored in the ELF note with every entry
 * unattached; the tender fills in per-device data and copies the result into
 * guest memory at bootinfo.mft.
 */
#define SN_MFT_VERSION 1
#define SN_MFT_NAME_SIZE 68    /* 67 characters + NUL */
#define SN_MFT_MAX_ENTRIES 64  /* including the reserved first entry */

#define SN_MFT_DEV_BLOCK_BASIC 1U
#define SN_MFT_DEV_NET_BASIC 2U
#define SN_MFT_RESERVED_FIRST (1U << 30)

struct sn_mft_net_basic {
    uint8_t mac[6];
    uint16_t mtu;
};

struct sn_mft_block_basic {
    uint64_t capacity;   /* bytes */
    uint16_t block_size; /* bytes, a power of two from SN_BLOCK_SIZE_MIN to SN_BLOCK_SIZE_MAX */
};

/*
 * Block sizes (--block-sector-size) every side accepts: the tender, the
 * broker and the guest bindings. The largest is the largest power of two the
 * manifest's 16-bit block_size can hold.
 */
#define SN_BLOCK_SIZE_MIN 512U
#define SN_BLOCK_SIZE_MAX 32768U
SN_STATIC_ASSERT(SN_BLOCK_SIZE_MAX <= UINT16_MAX && 2U * SN_BLOCK_SIZE_MAX > UINT16_MAX,
                 "block size fits block_size");

/*
 * Solo5's 104-byte entry, for both ABIs. The b union is 8 bytes wide because
 * upstream declares it with a pointer; here it is a 64-bit word so that the
 * layout is the same for every compiler that includes this header.
 */
struct sn_mft_entry {
    char name[SN_MFT_NAME_SIZE]; /* NUL-terminated, [A-Za-z0-9]{1,67} */
    uint32_t type;               /* SN_MFT_DEV_* or SN_MFT_RESERVED_FIRST */
    union {
        struct sn_mft_net_basic net_basic;
        struct sn_mft_block_basic block_basic;
    } u;                         /* zero in the ELF note */
    union {
        int32_t hostfd;          /* Solo5 ABI: the guest's host fd; ring ABI: -1 */
        uint64_t data;
    } b;                         /* zero in the ELF note */
    uint8_t attached;            /* 0 in the ELF note */
    uint8_t reserved[7];
};
SN_STATIC_ASSERT(sizeof(struct sn_mft_entry) == 104, "mft entry layout");
SN_STATIC_ASSERT(__builtin_offsetof(struct sn_mft_entry, b) == 88, "mft entry b");
SN_STATIC_ASSERT(__builtin_offsetof(struct sn_mft_entry, attached) == 96, "mft entry attached");

struct sn_mft {
    uint32_t version; /* SN_MFT_VERSION */
    uint32_t entries; /* 1..SN_MFT_MAX_ENTRIES, e[0] is SN_MFT_RESERVED_FIRST */
    struct sn_mft_entry e[];
};
SN_STATIC_ASSERT(sizeof(struct sn_mft) == 8, "mft header layout");
#define SN_MFT_SIZE(n) (8U + 104U * (uint32_t)(n))
SN_STATIC_ASSERT(SN_NOTE_MFT1_MAX == SN_NOTE_MFT1_PAD + 8U + 104U * SN_MFT_MAX_ENTRIES, "mft note max");

/* ------------------------------------------------------------------------
 * Guest physical/virtual memory layout (identical for spt and hvt).
 *
 *   0x00000 .. 0x0ffff   never mapped (NULL page and below mmap_min_addr)
 *   0x10000              struct sn_bootinfo (one page)
 *   0x11000 .. 0x12fff   command line, NUL-terminated
 *   0x13000 .. 0x14fff   manifest copy (struct sn_mft), filled by the tender
 *   0x100000 ..          ELF PT_LOAD segments; then the device rings at
 *                        bootinfo.rings (page aligned, right after the image,
 *                        only with devices; docs/abi.md); then heap, stack at
 *                        the top
 *
 * Nothing below SN_GUEST_MIN_BASE holds rings: the broker refuses a ring
 * address below it and the guest accepts a ring area only above its image.
 */
#define SN_MEM_UNMAPPED_END 0x10000ULL
#define SN_BOOTINFO_ADDR 0x10000ULL
#define SN_CMDLINE_ADDR 0x11000ULL
#define SN_CMDLINE_MAX 0x2000ULL
#define SN_MFT_ADDR 0x13000ULL
#define SN_MFT_MAX_BYTES 0x2000ULL
#define SN_GUEST_MIN_BASE 0x100000ULL
#define SN_PAGE_SIZE 0x1000ULL

SN_STATIC_ASSERT(SN_MFT_SIZE(SN_MFT_MAX_ENTRIES) <= SN_MFT_MAX_BYTES, "mft fits");

#define SN_BOOTINFO_MAGIC 0x31544f4f42354e53ULL /* "SN5BOOT1" */

/* Written by the tender into guest memory before the guest starts. */
struct sn_bootinfo {
    uint64_t magic;        /* SN_BOOTINFO_MAGIC */
    uint32_t abi_version;  /* SN_ABI_VERSION */
    uint32_t target;       /* SN_ABI_TARGET_* */
    uint64_t mem_size;     /* bytes of guest memory, page aligned */
    uint64_t kernel_end;   /* first byte after the highest PT_LOAD, page aligned */
    uint64_t cmdline;      /* guest address of the NUL-terminated command line */
    uint64_t mft;          /* guest address of the struct sn_mft copy */
    uint64_t mft_size;     /* bytes */
    uint64_t rings;        /* guest address of the ring area (0 = no devices) */
    uint64_t rings_size;   /* bytes */
    uint64_t random;       /* 64 random bits from the tender (stack canary seed) */
    uint64_t tsc_freq;     /* hvt: TSC ticks per second; 0 on spt */
    int32_t wait_fd;       /* spt: epoll fd the guest sleeps on in solo5_yield */
    int32_t console_fd;    /* spt: fd for console output */
    /*
     * hvt: the clocks, written by the helper just before the vCPU first runs
     * (0 on spt). At guest TSC value tsc_base the host's CLOCK_MONOTONIC read
     * mono_base_ns and its CLOCK_REALTIME wall_base_ns; the guest adds the
     * TSC ticks since then, converted at tsc_freq.
     */
    uint64_t tsc_base;
    uint64_t mono_base_ns;
    uint64_t wall_base_ns;
    uint64_t reserved[17];
};
SN_STATIC_ASSERT(sizeof(struct sn_bootinfo) == 256, "bootinfo layout");

/* ------------------------------------------------------------------------
 * The load plan: what the tender hands the helper (over fd SN_FD_PLAN) after
 * it has written segments, boot info, command line and manifest into the
 * guest memory memfd. The helper maps the memfd, applies region permissions,
 * installs the BPF program that follows the plan, and jumps to the entry.
 */
#define SN_PLAN_MAGIC 0x314e414c504e5335ULL /* "5SNPLAN1" */
#define SN_PLAN_MAX_REGIONS 16
#define SN_PLAN_MAX_BPF 4096 /* BPF_MAXINSNS */

#define SN_PROT_R 1U
#define SN_PROT_W 2U
#define SN_PROT_X 4U

struct sn_plan_region {
    uint64_t addr; /* page aligned, >= SN_GUEST_MIN_BASE */
    uint64_t len;  /* page aligned, non-zero */
    uint32_t prot; /* SN_PROT_*; never both W and X */
    uint32_t pad;
};
SN_STATIC_ASSERT(sizeof(struct sn_plan_region) == 24, "plan region layout");

struct sn_plan {
    uint64_t magic;      /* SN_PLAN_MAGIC */
    uint32_t abi_version;
    uint32_t target;     /* SN_ABI_TARGET_* */
    uint64_t mem_size;   /* size of the memfd; page aligned */
    uint64_t entry;      /* guest entry point */
    uint64_t stack_top;  /* initial %rsp (16-byte aligned) */
    uint64_t bootinfo;   /* passed to the entry in %rdi */
    uint32_t nregions;
    uint32_t bpf_len;    /* number of struct sock_filter (8 bytes each) after the plan */
    uint32_t ndoorbells; /* fds SN_FD_DOORBELL0.. kept open for the guest */
    uint32_t flags;      /* SN_PLAN_F_* */
    struct sn_plan_region regions[SN_PLAN_MAX_REGIONS];
    /*
     * The tender's pid: the helper asks for SIGKILL when its parent dies and
     * then checks that its parent is still this one, so that a tender dying
     * during the spawn cannot leave an orphan guest behind.
     */
    int32_t parent_pid;
    uint32_t uid;        /* with SN_PLAN_F_SETID: the ids the guest process runs as */
    uint32_t gid;
    /*
     * SN_PLAN_F_SOLO5 (Solo5's spt ABI, include/sn_solo5.h): the guest's host
     * device fds are SN_FD_DEV0..SN_FD_DEV0 + ndevfds - 1 (ndoorbells is 0).
     * dev_epoll[i] is the manifest index with which fd SN_FD_DEV0 + i joins the
     * guest's epoll set (net), or 0 when it stays out of it (block).
     */
    uint32_t ndevfds;
    uint8_t dev_epoll[SN_MFT_MAX_ENTRIES];
};
SN_STATIC_ASSERT(sizeof(struct sn_plan) == 64 + 24 * SN_PLAN_MAX_REGIONS + 16 + SN_MFT_MAX_ENTRIES,
                 "plan layout");

/* The guest speaks Solo5's spt ABI: boot info at SN_SOLO5_BOOT_INFO_BASE, host fds, no rings. */
#define SN_PLAN_F_SOLO5 1U
/* Drop to plan.uid/plan.gid, no supplementary groups and no capabilities before the guest runs. */
#define SN_PLAN_F_SETID 2U
/*
 * spt only: the helper is the container's process (solo5-oci). It is not tied
 * to its parent's life, and after set-up it waits at a start gate: the fd
 * after the doorbells or device fds is a FIFO it reads one byte from before
 * it confines itself and jumps; the fd after that becomes its stderr at the
 * gate. At the gate it writes SN_DIAG_GATE_READY, alone, on the diagnostics
 * pipe and closes it (by that dup): the spawner reads "ready" from that byte,
 * not from the end of the pipe, which a helper killed before the gate also
 * closes.
 */
#define SN_PLAN_F_GATE 4U
#define SN_DIAG_GATE_READY 0x06U

/* File descriptors at exec of the helper. */
#define SN_FD_CONSOLE 1   /* guest console output */
#define SN_FD_DIAG 2      /* helper diagnostics (one line, before the jump) */
#define SN_FD_MEM 3       /* guest memory memfd; closed by the helper after mapping */
#define SN_FD_PLAN 4      /* struct sn_plan + BPF; closed by the helper after reading */
#define SN_FD_DOORBELL0 5 /* device doorbells, plan.ndoorbells of them */
/* After setup (spt): the helper's epoll fd, on which the guest waits. */
#define SN_FD_WAIT 3
/*
 * SN_PLAN_F_SOLO5: the device fds sit where the doorbells would; after set-up
 * the epoll fd and the timerfd of Solo5's boot info take the numbers of the
 * closed memory and plan fds.
 */
#define SN_FD_DEV0 5
#define SN_FD_SOLO5_EPOLL 3
#define SN_FD_SOLO5_TIMER 4
SN_STATIC_ASSERT(SN_FD_DEV0 == SN_FD_DOORBELL0, "device fds take the doorbells' place");
/*
 * hvt: the KVM device (/dev/kvm, opened by the tender) is the fd right after
 * the doorbells, SN_FD_DOORBELL0 + plan.ndoorbells. After setup the helper
 * holds its vCPU at SN_FD_VCPU (and the same wait epoll at SN_FD_WAIT, which
 * it sleeps on for the guest); the device and VM fds are closed.
 */
#define SN_FD_VCPU 4
/*
 * A helper exec'd in place of the tender's own process (the CLI becoming its
 * guest, docs/architecture.md "Process model") gets its fds where the tender
 * had them: Node's own threads use fds 3 and up until the execve, so the
 * tender cannot renumber them first. argv[1] is then SN_HELPER_INPLACE_ARG
 * and argv[2..] name, in decimal, the fds the helper places at 0, SN_FD_MEM,
 * SN_FD_PLAN, SN_FD_PLAN + 1, ... in that order (exactly as many as the plan
 * keeps), each at least SN_FD_INPLACE_MIN, above every number it places, so
 * that placing one never replaces another. Such a plan's parent_pid is the
 * helper's own pid: it has the tender's parent, and like upstream's tender
 * it is not tied to that parent's life (no parent-death signal is armed).
 */
#define SN_HELPER_INPLACE_ARG "--in-place"
#define SN_FD_INPLACE_MIN 256

/* ------------------------------------------------------------------------
 * Device rings (docs/abi.md, "Rings"). The tender places the ring area at
 * bootinfo.rings (page aligned, after the image; the heap starts after it).
 * Every index is a free-running uint32_t; a queue of N slots (a power of two)
 * is full when prod - cons == N. Indices written by different sides sit on
 * different cache lines. The tender never trusts anything in this area: it
 * keeps its own copy of every offset and size, and reads each index and slot
 * once into a local before checking and using it.
 */
#define SN_RINGS_MAGIC 0x31474e49524e5335ULL /* "5SNRING1" */
#define SN_CACHE_LINE 64

struct sn_queue {
    /* Written only by the producer. */
    volatile uint32_t prod;
    volatile uint32_t prod_waiting; /* producer sleeps until cons moves (queue full) */
    uint8_t pad0[SN_CACHE_LINE - 8];
    /* Written only by the consumer. */
    volatile uint32_t cons;
    volatile uint32_t cons_waiting; /* consumer sleeps until prod moves: kick it */
    uint8_t pad1[SN_CACHE_LINE - 8];
};
SN_STATIC_ASSERT(sizeof(struct sn_queue) == 2 * SN_CACHE_LINE, "queue layout");

/* Net: tx (guest produces, tender consumes) and rx (tender produces, guest
 * consumes). Slot i of a queue owns the frame buffer at buf_off + i * buf_stride
 * (relative to the device block); a slot carries only the frame length. */
#define SN_NET_SLOTS 256
struct sn_net_slot {
    uint32_t len;
    uint32_t flags;
};
struct sn_net_dev {
    struct sn_queue tx;
    struct sn_queue rx;
    uint32_t slots;      /* a power of two, at most SN_NET_SLOTS */
    uint32_t buf_stride; /* >= mtu + 14, multiple of 64 */
    uint32_t mtu;
    /* Written by the tender, any time: 1 when the guest shares its CPU with
     * the tender's pump, so a guest spinning for rx only keeps the pump
     * from running: it sleeps at once instead. 0: spin as usual. */
    volatile uint32_t no_spin;
    uint64_t tx_slots_off; /* struct sn_net_slot[slots] */
    uint64_t rx_slots_off;
    uint64_t tx_buf_off;
    uint64_t rx_buf_off;
    uint8_t pad[SN_CACHE_LINE - 48];
};
SN_STATIC_ASSERT(sizeof(struct sn_net_dev) == 5 * SN_CACHE_LINE, "net dev layout");

/* Block: the guest produces requests, the tender produces completions. A
 * request names a guest buffer by address; reads land in it directly. */
#define SN_BLK_SLOTS 64
#define SN_BLK_OP_READ 1U
#define SN_BLK_OP_WRITE 2U
#define SN_BLK_ST_OK 0U
#define SN_BLK_ST_EINVAL 1U
#define SN_BLK_ST_EIO 2U
struct sn_blk_req {
    uint32_t op;     /* SN_BLK_OP_* */
    uint32_t reserved;
    uint64_t offset; /* bytes, multiple of block_size */
    uint64_t addr;   /* guest address of the buffer */
    uint64_t len;    /* bytes, multiple of block_size, > 0 */
    uint64_t id;     /* echoed in the completion */
};
SN_STATIC_ASSERT(sizeof(struct sn_blk_req) == 40, "blk req layout");
struct sn_blk_cpl {
    uint64_t id;
    uint32_t status; /* SN_BLK_ST_* */
    uint32_t reserved;
};
SN_STATIC_ASSERT(sizeof(struct sn_blk_cpl) == 16, "blk cpl layout");
struct sn_blk_dev {
    struct sn_queue req;
    struct sn_queue cpl;
    uint32_t slots; /* a power of two, at most SN_BLK_SLOTS */
    uint32_t block_size;
    uint64_t capacity;
    uint64_t req_off; /* struct sn_blk_req[slots] */
    uint64_t cpl_off; /* struct sn_blk_cpl[slots] */
    uint8_t pad[SN_CACHE_LINE - 32];
};
SN_STATIC_ASSERT(sizeof(struct sn_blk_dev) == 5 * SN_CACHE_LINE, "blk dev layout");

/* The ring area starts with this directory, indexed like the manifest. */
struct sn_rings_hdr {
    uint64_t magic;   /* SN_RINGS_MAGIC */
    uint32_t version; /* SN_ABI_VERSION */
    uint32_t entries; /* = manifest entries */
    uint64_t dev_off[SN_MFT_MAX_ENTRIES]; /* device block offset from the ring area, 0 = none */
};
SN_STATIC_ASSERT(sizeof(struct sn_rings_hdr) == 16 + 8 * SN_MFT_MAX_ENTRIES, "rings hdr layout");

/* Doorbells (eventfds): SN_FD_DOORBELL0 the guest writes to wake the tender;
 * SN_FD_DOORBELL0 + 1 the tender writes to wake the guest (in the wait epoll). */
#define SN_DOORBELL_TO_TENDER 0
#define SN_DOORBELL_TO_GUEST 1

#endif /* SN_ABI_H */
