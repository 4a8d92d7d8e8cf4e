/* rings.h: the guest's view of the device ring area: checked layouts, index atomics and the adaptive wait. */
#ifndef SN_RINGS_H
#define SN_RINGS_H

#include "bindings.h"

/*
 * Ordering (docs/abi.md, "Queues"): the peer's index is read with acquire,
 * so that the slots it covers are read after it; our own index is stored
 * with release, so that the slots are written before it. A full fence sits
 * between publishing something and reading the peer's *_waiting flag, and
 * between setting our own flag and re-reading the peer's index, or each side
 * could miss the other's update and both sleep.
 */
static inline uint32_t sn_load_acquire(const volatile uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void sn_store_release(volatile uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void sn_fence(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void sn_cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

/*
 * The spin budget before sleeping (sn_ring_wait; solo5_yield takes its
 * target's, platform.h, which is this on spt): 1024 `pause`s, about 20 µs on Intel
 * cores (20-40 ns each) and 80 µs on the AMD EPYC VMs the benchmarks ran on
 * (70-85 ns each). A tender that is awake answers well within it, and
 * one that sleeps is woken by our doorbell in about the same time (an
 * eventfd wake-up costs ~18 µs), so spinning longer only burns the core the
 * tender may need.
 */
#define SN_SPIN_POLLS 1024U

/*
 * The spin in solo5_yield gives the CPU away every this many polls (a power
 * of two): every 2-3 µs on these VMs, one system call each time.
 */
#define SN_SPIN_GIVE_EVERY 32U

/*
 * A checked net device. Everything but the queue indices and slot lengths
 * is copied out of the ring area once, at acquire time, and used from here:
 * the application can scribble on the ring area (the hostile test does), and
 * its own bindings should not then write outside it.
 */
struct sn_net_ring {
    volatile struct sn_net_dev *dev;
    volatile struct sn_net_slot *tx_slots;
    volatile struct sn_net_slot *rx_slots;
    uint8_t *tx_buf;
    const uint8_t *rx_buf;
    uint32_t mask; /* slots - 1 */
    uint32_t stride; /* bytes between frame buffers */
    uint32_t mtu;
    uint32_t tx_prod; /* our own indices, so we never read them back */
    uint32_t rx_cons;
};

/* A checked block device; the same rules apply. */
struct sn_blk_ring {
    volatile struct sn_blk_dev *dev;
    volatile struct sn_blk_req *reqs;
    volatile const struct sn_blk_cpl *cpls;
    uint32_t mask;
    uint32_t block_size;
    uint64_t capacity;
    uint32_t req_prod;
    uint32_t cpl_cons;
    uint64_t next_id;
};

/*
 * Checks the ring area named by the boot info (page aligned, at or above
 * `image_end` and inside guest memory; header magic and version) once at
 * boot. Returns the first byte after the area when it lies there (even if
 * its header is wrong, so the heap never overlaps it), or 0.
 */
uint64_t sn_rings_init(const struct sn_bootinfo *bi, uint64_t image_end);

/* Address and size of the checked ring area (0, 0 when there is none). */
void sn_rings_area(uint64_t *addr, uint64_t *size);

/*
 * Finds and checks the device block of manifest entry `index`; on success
 * fills *r and returns SOLO5_R_OK. `mtu` (net) and `block_size` and
 * `capacity` (block) are the manifest copy's values, which the device block
 * must repeat. SOLO5_R_EUNSPEC when the tender gave the entry no usable
 * block; the reason is logged at warn level.
 */
solo5_result_t sn_rings_net(uint32_t index, uint32_t mtu, struct sn_net_ring *r);
solo5_result_t sn_rings_blk(uint32_t index, uint32_t block_size, uint64_t capacity, struct sn_blk_ring *r);

/*
 * Waits until done(arg) returns non-zero: a bounded spin first (a busy
 * tender answers within microseconds), then the suppression dance: store
 * *waiting = 1, fence, re-check, sleep on the doorbell, clear the flag.
 * `waiting` is one of the guest's own *_waiting flags.
 */
void sn_ring_wait(volatile uint32_t *waiting, int (*done)(const void *arg), const void *arg);
/* The same without the spin, for a guest that shares its CPU with the tender's pump (no_spin). */
void sn_ring_sleep(volatile uint32_t *waiting, int (*done)(const void *arg), const void *arg);

/*
 * For solo5_yield (ring/yield.c), from ring/net.c: the acquired net
 * handles with a frame waiting, and setting or clearing rx.cons_waiting on
 * every acquired net device.
 */
solo5_handle_set_t sn_net_ready_set(void);
void sn_net_arm_rx(int on);
/* 0 when the tender asks not to spin (sn_net_dev.no_spin on any acquired device). */
int sn_net_may_spin(void);

/*
 * For solo5_exit: a frame solo5_net_write accepted should reach the wire
 * even if the guest exits right after, as it would with a direct write to
 * a tap. Waits, for a bounded time, until the tender has taken every
 * queued tx frame.
 */
void sn_net_flush(void);

#endif /* SN_RINGS_H */
