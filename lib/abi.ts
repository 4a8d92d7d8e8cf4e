// abi.ts: the TypeScript mirror of include/sn_abi.h (constants and struct layouts); test/abi.test.ts checks it against the C compiler.

/*
 * Addresses fit comfortably in a JavaScript number (guest memory is at most
 * 1 TiB), so they are numbers; the 64-bit magic values are bigints because
 * they are compared bit for bit.
 */

/** The ring ABI's version: 1000 + its revision, so that it never equals a Solo5 release's (1, 2). */
export const SN_ABI_VERSION = 1001;

/** ABI1 note targets (Solo5's published numbering). */
export const SN_ABI_TARGET_HVT = 1;
export const SN_ABI_TARGET_SPT = 2;
/** Solo5's virtio target: Multiboot kernels run under QEMU by solo5-virtio-run, not by a tender. */
export const SN_ABI_TARGET_VIRTIO = 3;
/** The two tenders and their builds: the one spelling of this union in the code. */
export type Target = 'spt' | 'hvt';
export const TARGETS: readonly Target[] = ['spt', 'hvt'];
export const TARGET_NUMBER: Readonly<Record<Target, number>> = { hvt: SN_ABI_TARGET_HVT, spt: SN_ABI_TARGET_SPT };

/** ELF note owner and types. */
export const SN_NOTE_NAME = 'Solo5';
export const SN_NOTE_TYPE_MFT = 0x3154464d; // "MFT1"
export const SN_NOTE_TYPE_ABI = 0x31494241; // "ABI1"
/** Note header (12) + owner "Solo5" padded to 8; descriptor alignment and Solo5's size limits. */
export const SN_NOTE_HEADER_SIZE = 20;
export const SN_NOTE_ABI1_ALIGN = 4;
export const SN_NOTE_MFT1_ALIGN = 8;
export const SN_NOTE_MFT1_PAD = 4;
export const SN_NOTE_ABI1_MAX = 32;
export const SN_NOTE_MFT1_MAX = 12 + 104 * 64;
export const SN_INTERP_PATH = '/nonexistent/solo5/';
export const SN_INTERP_SIZE = 24;

/** MFT1 manifest. */
export const SN_MFT_VERSION = 1;
export const SN_MFT_NAME_SIZE = 68;
export const SN_MFT_MAX_ENTRIES = 64;
export const SN_MFT_DEV_BLOCK_BASIC = 1;
export const SN_MFT_DEV_NET_BASIC = 2;
export const SN_MFT_RESERVED_FIRST = 0x40000000;
/** Block sizes every side accepts; the largest is the largest power of two the manifest's u16 block_size holds. */
export const SN_BLOCK_SIZE_MIN = 512;
export const SN_BLOCK_SIZE_MAX = 32768;
/** A block size every side accepts: a power of two from SN_BLOCK_SIZE_MIN to SN_BLOCK_SIZE_MAX. */
export function isBlockSize(n: number): boolean {
  return Number.isInteger(n) && n >= SN_BLOCK_SIZE_MIN && n <= SN_BLOCK_SIZE_MAX && (n & (n - 1)) === 0;
}
export function mftSize(entries: number): number {
  return 8 + SN_MFT_ENTRY.size * entries;
}

/** Guest memory layout (identical for spt and hvt); the ring area sits after the image, at bootinfo.rings. */
export const SN_MEM_UNMAPPED_END = 0x10000;
export const SN_BOOTINFO_ADDR = 0x10000;
export const SN_CMDLINE_ADDR = 0x11000;
export const SN_CMDLINE_MAX = 0x2000;
export const SN_MFT_ADDR = 0x13000;
export const SN_MFT_MAX_BYTES = 0x2000;
export const SN_GUEST_MIN_BASE = 0x100000;
export const SN_PAGE_SIZE = 0x1000;

export const SN_BOOTINFO_MAGIC = 0x31544f4f42354e53n; // "SN5BOOT1"
export const SN_PLAN_MAGIC = 0x314e414c504e5335n; // "5SNPLAN1"

/*
 * Solo5's own spt ABI (include/sn_solo5.h): published values, copied exactly.
 * A guest built for it does its own device syscalls on host fds.
 */
export const SN_SOLO5_SPT_ABI_V1 = 1;
export const SN_SOLO5_SPT_ABI_V2 = 2;
export const SN_SOLO5_HVT_ABI_VERSION = 2;
export const SN_SOLO5_VIRTIO_ABI_VERSION = 1;
export const SN_SOLO5_HOST_MEM_BASE = 0x10000;
export const SN_SOLO5_BOOT_INFO_BASE = 0x11000;
export const SN_SOLO5_GUEST_MIN_BASE = 0x100000;
export const SN_SOLO5_CMDLINE_SIZE = 8192;
export const SN_SOLO5_INTERNAL_TIMERFD = 0xfffffffe;
export const SN_SOLO5_STACK_GAP = 8;
export const SN_SOLO5_MFT_ADDR = SN_SOLO5_BOOT_INFO_BASE + 40;

/*
 * Solo5's own hvt ABI (include/sn_solo5_hvt.h): published values, copied
 * exactly. Versions 1 (Solo5 0.6-0.7) and 2 (0.8-0.12) share the hypercalls.
 */
export const SN_SOLO5_HVT_ABI_V1 = 1;
export const SN_SOLO5_HVT_ABI_V2 = 2;
export const SN_SOLO5_HVT_PORT_BASE = 0x500;
export const SN_SOLO5_HVT_HC_WALLTIME = 1;
export const SN_SOLO5_HVT_HC_PUTS = 2;
export const SN_SOLO5_HVT_HC_POLL = 3;
export const SN_SOLO5_HVT_HC_BLOCK_WRITE = 4;
export const SN_SOLO5_HVT_HC_BLOCK_READ = 5;
export const SN_SOLO5_HVT_HC_NET_WRITE = 6;
export const SN_SOLO5_HVT_HC_NET_READ = 7;
export const SN_SOLO5_HVT_HC_HALT = 8;
export const SN_SOLO5_HVT_HC_MAX = 9;
export const SN_SOLO5_HVT_RING_KICK_PORT = 0x600;
export const SN_SOLO5_R_OK = 0;
export const SN_SOLO5_R_AGAIN = 1;
export const SN_SOLO5_R_EINVAL = 2;
export const SN_SOLO5_R_EUNSPEC = 3;
export const SN_SOLO5_HVT_HALT_COOKIE_MAX = 512;
export const SN_SOLO5_HVT_DIAG_RUNNING = 7;
export const SN_SOLO5_HVT_FEATURE_RING_IO = 1;
export const SN_SOLO5_HVT_GDT = 0x1000;
export const SN_SOLO5_HVT_PML4 = 0x2000;
export const SN_SOLO5_HVT_PDPT = 0x3000;
export const SN_SOLO5_HVT_PD = 0x4000;
export const SN_SOLO5_HVT_PD_COUNT = 4;
export const SN_SOLO5_HVT_PT0 = 0x8000;
export const SN_SOLO5_HVT_BOOT_INFO = 0x10000;
export const SN_SOLO5_HVT_KERNEL_MIN = 0x100000;
export const SN_SOLO5_HVT_CMDLINE_SIZE = 8192;
export const SN_SOLO5_HVT_PAGE_2M = 0x200000;
export const SN_SOLO5_HVT_MEM_MAX = 0x100000000;
export const SN_SOLO5_HVT_MEM_DEFAULT = 512 * 1024 * 1024;
export const SN_SOLO5_HVT_STACK_GAP = 8;
export const SN_SOLO5_HVT_CR0 = 0x80010021;
export const SN_SOLO5_HVT_CR4 = 0x620;
export const SN_SOLO5_HVT_EFER = 0x500;
export const SN_SOLO5_HVT_GDT_CODE = 0x00af99000000ffffn;
export const SN_SOLO5_HVT_GDT_DATA = 0x00cf93000000ffffn;
export const SN_SOLO5_HVT_SEL_CODE = 0x08;
export const SN_SOLO5_HVT_SEL_DATA = 0x10;
export const SN_SOLO5_HVT_GDT_LIMIT = 23;
export const SN_SOLO5_HVT_PTE_P = 1;
export const SN_SOLO5_HVT_PTE_RW = 2;
export const SN_SOLO5_HVT_PTE_PS = 0x80;
export const SN_SOLO5_HVT_BOOT_INFO_V1_SIZE = 40;
export const SN_SOLO5_HVT_BOOT_INFO_SIZE = 56;
export const SN_SOLO5_HVT_MFT_ADDR = SN_SOLO5_HVT_BOOT_INFO + SN_SOLO5_HVT_BOOT_INFO_SIZE;
export const SN_SOLO5_HVT_RING_SLOTS = 1024;
export const SN_SOLO5_HVT_RING_OP_NET_WRITE = 1;
export const SN_SOLO5_HVT_RING_OP_NET_READ = 2;
export const SN_SOLO5_HVT_RING_AREA = SN_SOLO5_HVT_PAGE_2M;

/** Load plan limits and region protections. */
export const SN_PLAN_MAX_REGIONS = 16;
export const SN_PLAN_MAX_BPF = 4096;
export const SN_PROT_R = 1;
export const SN_PROT_W = 2;
export const SN_PROT_X = 4;
/**
 * sn_plan.flags: the guest speaks Solo5's spt ABI; the helper drops to plan.uid/gid and no capabilities;
 * the helper waits at a start gate and outlives its parent (solo5-oci's monitorless containers).
 */
export const SN_PLAN_F_SOLO5 = 1;
export const SN_PLAN_F_SETID = 2;
export const SN_PLAN_F_GATE = 4;
/** The one byte a gated helper writes on its diagnostics pipe at the gate (see SN_PLAN_F_GATE). */
export const SN_DIAG_GATE_READY = 6;

/*
 * Limits the helper enforces on a plan beyond the header's (HELPER_* in
 * addon/helper/helper_plan.h); the encoder refuses what the helper would.
 */
export const HELPER_MIN_MEM_SIZE = 2 * 1024 * 1024;
export const HELPER_MAX_MEM_SIZE = 2 ** 40;
export const HELPER_MAX_DOORBELLS = 2 * SN_MFT_MAX_ENTRIES;

/** File descriptors at exec of the helper, and the guest's wait fd after set-up. */
export const SN_FD_CONSOLE = 1;
export const SN_FD_DIAG = 2;
export const SN_FD_MEM = 3;
export const SN_FD_PLAN = 4;
export const SN_FD_DOORBELL0 = 5;
export const SN_FD_WAIT = 3;
/** The CLI's in-place start (addon/spawn/spawn_exec.cc): the helper's argv[1], and the lowest fd number it is handed fds at. */
export const SN_HELPER_INPLACE_ARG = '--in-place';
export const SN_FD_INPLACE_MIN = 256;
/** Solo5-ABI guests: device fds from SN_FD_DEV0; epoll and timerfd take the memory and plan fds' numbers. */
export const SN_FD_DEV0 = 5;
export const SN_FD_SOLO5_EPOLL = 3;
export const SN_FD_SOLO5_TIMER = 4;
/** hvt: the helper's vCPU fd after set-up (the KVM device fd at exec follows the doorbells). */
export const SN_FD_VCPU = 4;

/** Device rings. */
export const SN_RINGS_MAGIC = 0x31474e49524e5335n; // "5SNRING1"
export const SN_CACHE_LINE = 64;
export const SN_NET_SLOTS = 256;
export const SN_BLK_SLOTS = 64;
export const SN_BLK_OP_READ = 1;
export const SN_BLK_OP_WRITE = 2;
export const SN_BLK_ST_OK = 0;
export const SN_BLK_ST_EINVAL = 1;
export const SN_BLK_ST_EIO = 2;
/** Doorbells come in pairs from SN_FD_DOORBELL0: index 0 wakes the tender, index 1 the guest. */
export const SN_DOORBELL_TO_TENDER = 0;
export const SN_DOORBELL_TO_GUEST = 1;

/** A struct's size and the byte offset of each field that the TypeScript side reads or writes. */
export interface StructLayout {
  readonly size: number;
  readonly offsets: Readonly<Record<string, number>>;
}

export const SN_BOOTINFO = {
  size: 256,
  offsets: {
    magic: 0,
    abi_version: 8,
    target: 12,
    mem_size: 16,
    kernel_end: 24,
    cmdline: 32,
    mft: 40,
    mft_size: 48,
    rings: 56,
    rings_size: 64,
    random: 72,
    tsc_freq: 80,
    wait_fd: 88,
    console_fd: 92,
    tsc_base: 96,
    mono_base_ns: 104,
    wall_base_ns: 112,
    reserved: 120,
  },
} as const satisfies StructLayout;

export const SN_PLAN_REGION = {
  size: 24,
  offsets: { addr: 0, len: 8, prot: 16, pad: 20 },
} as const satisfies StructLayout;

export const SN_PLAN = {
  size: 64 + SN_PLAN_REGION.size * SN_PLAN_MAX_REGIONS + 16 + SN_MFT_MAX_ENTRIES,
  offsets: {
    magic: 0,
    abi_version: 8,
    target: 12,
    mem_size: 16,
    entry: 24,
    stack_top: 32,
    bootinfo: 40,
    nregions: 48,
    bpf_len: 52,
    ndoorbells: 56,
    flags: 60,
    regions: 64,
    parent_pid: 64 + SN_PLAN_REGION.size * SN_PLAN_MAX_REGIONS,
    uid: 68 + SN_PLAN_REGION.size * SN_PLAN_MAX_REGIONS,
    gid: 72 + SN_PLAN_REGION.size * SN_PLAN_MAX_REGIONS,
    ndevfds: 76 + SN_PLAN_REGION.size * SN_PLAN_MAX_REGIONS,
    dev_epoll: 80 + SN_PLAN_REGION.size * SN_PLAN_MAX_REGIONS,
  },
} as const satisfies StructLayout;

export const SN_MFT_NET_BASIC = {
  size: 8,
  offsets: { mac: 0, mtu: 6 },
} as const satisfies StructLayout;

export const SN_MFT_BLOCK_BASIC = {
  size: 16,
  offsets: { capacity: 0, block_size: 8 },
} as const satisfies StructLayout;

export const SN_MFT_ENTRY = {
  size: 104,
  offsets: { name: 0, type: 68, u: 72, b: 88, attached: 96, reserved: 97 },
} as const satisfies StructLayout;

export const SN_MFT = {
  size: 8,
  offsets: { version: 0, entries: 4, e: 8 },
} as const satisfies StructLayout;

export const SN_ABI1_DESC = {
  size: 16,
  offsets: { target: 0, version: 4, reserved0: 8, reserved1: 12 },
} as const satisfies StructLayout;

export const SN_SOLO5_BOOT_INFO = {
  size: 40,
  offsets: { mem_size: 0, kernel_end: 8, cmdline: 16, mft: 24, epollfd: 32, timerfd: 36 },
} as const satisfies StructLayout;

export const SN_SOLO5_HVT_BOOT_INFO_LAYOUT = {
  size: 56,
  offsets: { mem_size: 0, kernel_end: 8, cpu_cycle_freq: 16, cmdline: 24, mft: 32, host_features: 40, guest_features: 44, net_ring: 48 },
} as const satisfies StructLayout;

/** The hypercall argument structs, for the hand-made guests of the tests. */
export const SN_SOLO5_HVT_POLL = { size: 24, offsets: { timeout_nsecs: 0, ready_set: 8, ret: 16 } } as const satisfies StructLayout;
export const SN_SOLO5_HVT_BLKIO = {
  size: 40,
  offsets: { handle: 0, offset: 8, data: 16, len: 24, ret: 32 },
} as const satisfies StructLayout;
export const SN_SOLO5_HVT_NETIO = { size: 32, offsets: { handle: 0, data: 8, len: 16, ret: 24 } } as const satisfies StructLayout;
export const SN_SOLO5_HVT_HALT = { size: 16, offsets: { cookie: 0, exit_status: 8 } } as const satisfies StructLayout;
export const SN_SOLO5_HVT_RING_ENTRY = {
  size: 32,
  offsets: { operation: 0, handle: 4, data: 8, len: 16, id: 20, reserved: 24 },
} as const satisfies StructLayout;
export const SN_SOLO5_HVT_RING_COMMIT = { size: 16, offsets: { id: 0, ret: 4, len: 8, reserved: 12 } } as const satisfies StructLayout;
export const SN_SOLO5_HVT_RING = {
  size: 49280,
  offsets: { ent_tail: 0, com_head: 4, ent_head: 64, com_tail: 68, needs_kick: 72, ent: 128, com: 32896 },
} as const satisfies StructLayout;

export const SN_QUEUE = {
  size: 2 * SN_CACHE_LINE,
  offsets: { prod: 0, prod_waiting: 4, pad0: 8, cons: SN_CACHE_LINE, cons_waiting: SN_CACHE_LINE + 4, pad1: SN_CACHE_LINE + 8 },
} as const satisfies StructLayout;

export const SN_NET_SLOT = {
  size: 8,
  offsets: { len: 0, flags: 4 },
} as const satisfies StructLayout;

export const SN_NET_DEV = {
  size: 5 * SN_CACHE_LINE,
  offsets: {
    tx: 0,
    rx: 128,
    slots: 256,
    buf_stride: 260,
    mtu: 264,
    no_spin: 268,
    tx_slots_off: 272,
    rx_slots_off: 280,
    tx_buf_off: 288,
    rx_buf_off: 296,
    pad: 304,
  },
} as const satisfies StructLayout;

export const SN_BLK_REQ = {
  size: 40,
  offsets: { op: 0, reserved: 4, offset: 8, addr: 16, len: 24, id: 32 },
} as const satisfies StructLayout;

export const SN_BLK_CPL = {
  size: 16,
  offsets: { id: 0, status: 8, reserved: 12 },
} as const satisfies StructLayout;

export const SN_BLK_DEV = {
  size: 5 * SN_CACHE_LINE,
  offsets: { req: 0, cpl: 128, slots: 256, block_size: 260, capacity: 264, req_off: 272, cpl_off: 280, pad: 288 },
} as const satisfies StructLayout;

export const SN_RINGS_HDR = {
  size: 16 + 8 * SN_MFT_MAX_ENTRIES,
  offsets: { magic: 0, version: 8, entries: 12, dev_off: 16 },
} as const satisfies StructLayout;

/** Every layout by its C struct name, for the layout test. */
export const LAYOUTS: Readonly<Record<string, StructLayout>> = {
  sn_bootinfo: SN_BOOTINFO,
  sn_plan: SN_PLAN,
  sn_plan_region: SN_PLAN_REGION,
  sn_mft_net_basic: SN_MFT_NET_BASIC,
  sn_mft_block_basic: SN_MFT_BLOCK_BASIC,
  sn_mft_entry: SN_MFT_ENTRY,
  sn_mft: SN_MFT,
  sn_abi1_desc: SN_ABI1_DESC,
  sn_solo5_boot_info: SN_SOLO5_BOOT_INFO,
  sn_solo5_hvt_boot_info: SN_SOLO5_HVT_BOOT_INFO_LAYOUT,
  sn_solo5_hvt_poll: SN_SOLO5_HVT_POLL,
  sn_solo5_hvt_blkio: SN_SOLO5_HVT_BLKIO,
  sn_solo5_hvt_netio: SN_SOLO5_HVT_NETIO,
  sn_solo5_hvt_halt: SN_SOLO5_HVT_HALT,
  sn_solo5_hvt_ring: SN_SOLO5_HVT_RING,
  sn_solo5_hvt_ring_entry: SN_SOLO5_HVT_RING_ENTRY,
  sn_solo5_hvt_ring_commit: SN_SOLO5_HVT_RING_COMMIT,
  sn_queue: SN_QUEUE,
  sn_net_slot: SN_NET_SLOT,
  sn_net_dev: SN_NET_DEV,
  sn_blk_req: SN_BLK_REQ,
  sn_blk_cpl: SN_BLK_CPL,
  sn_blk_dev: SN_BLK_DEV,
  sn_rings_hdr: SN_RINGS_HDR,
};
