// broker_shm.h: single-read and publish primitives for fields in guest-writable shared memory.
#ifndef SN_BROKER_SHM_H
#define SN_BROKER_SHM_H

#include <cstdint>
#include <ctime>

/*
 * Everything in the ring area can be rewritten by the guest at any moment.
 * The tender therefore never dereferences a guest field twice: each read
 * below is a single volatile or atomic load into a local, and the checks and
 * uses that follow see only that local. A plain memcpy into a local is not
 * enough, because the compiler may legally re-read the source later.
 */

namespace sn {

inline uint32_t ShmAcquire(const volatile uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

inline uint32_t ShmRead32(const volatile uint32_t *p) { return *p; }

inline uint64_t ShmRead64(const volatile uint64_t *p) { return *p; }

inline void ShmRelease(volatile uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

inline void ShmWrite32(volatile uint32_t *p, uint32_t v) { *p = v; }

inline void ShmWrite64(volatile uint64_t *p, uint64_t v) { *p = v; }

// The store-then-load fence of the suppression protocol (docs/abi.md "Queues").
inline void ShmFullFence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// Copy n bytes out of guest memory exactly once (used for MAC addresses).
inline void ShmCopyOut(void *dst, const volatile uint8_t *src, uint32_t n) {
  uint8_t *d = static_cast<uint8_t *>(dst);
  for (uint32_t i = 0; i < n; i++) d[i] = src[i];
}

inline void CpuRelax() { __builtin_ia32_pause(); }

inline uint64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace sn

#endif  // SN_BROKER_SHM_H
