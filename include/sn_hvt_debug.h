/* sn_hvt_debug.h: the debug channel between the tender and solo5-helper-debug (gdb stub requests, core registers). */
#ifndef SN_HVT_DEBUG_H
#define SN_HVT_DEBUG_H

#include <stdint.h>

#include "sn_abi.h"

/*
 * Only solo5-helper-debug (built with -DSN_HVT_DEBUG) accepts a plan with
 * SN_PLAN_F_DUMPCORE or SN_PLAN_F_GDB; the default helper refuses it in one
 * line. With either flag the fd after the KVM device fd
 * (SN_FD_DOORBELL0 + plan.ndoorbells + 1) is the helper's end of a
 * SOCK_STREAM socketpair, and it stays at that number.
 *
 * The tender parses the gdb remote protocol (lib/hvt/gdb-rsp.ts); the helper
 * only answers the typed requests below, one message each way. Every message
 * is a struct sn_dbg_msg header followed by exactly `len` bytes of data,
 * len <= SN_DBG_DATA_MAX (a longer one ends the channel: the stream is out of
 * step). A request the helper cannot serve (an address range
 * outside guest memory, a bad length, an unknown op) gets a reply with a
 * non-zero status and the guest is untouched: it never ends the guest.
 */

/* Ask the helper's debug features: the guest's registers on abort (hvt). */
#define SN_PLAN_F_DUMPCORE 8U
/* hvt: hold the guest at its entry and serve debug requests until it ends. */
#define SN_PLAN_F_GDB 16U

#define SN_DBG_DATA_MAX 2048U
/* At most this many hardware breakpoints (the four x86 debug address registers). */
#define SN_DBG_HWBP_MAX 4U

/* Requests (tender to helper). */
#define SN_DBG_GET_REGS 1U /* reply: struct sn_dbg_regs */
#define SN_DBG_SET_REGS 2U /* data: struct sn_dbg_regs (GPRs, rip, rflags applied) */
#define SN_DBG_READ 3U /* addr, len: reply data = guest memory [addr, addr + len) */
#define SN_DBG_WRITE 4U /* addr, data: written to guest memory */
#define SN_DBG_CONT 5U /* run until a debug stop or the guest's end */
#define SN_DBG_STEP 6U /* one instruction, then stop */
#define SN_DBG_HWBP_SET 7U /* arg = slot (< SN_DBG_HWBP_MAX), addr = instruction address */
#define SN_DBG_HWBP_CLEAR 8U /* arg = slot */
#define SN_DBG_DETACH 9U /* no reply: breakpoints and stepping off, the guest runs on undebugged */
/*
 * gdb's ^C, sent while a CONT or STEP runs: no reply of its own. The run's
 * one answer is a STOPPED with SN_DBG_STOP_INTERRUPT and SIGINT, or, when
 * the guest stopped or ended first, the STOPPED or EXITED it was already
 * giving: a helper that reads INTERRUPT while stopped drops it. With
 * SN_PLAN_F_GDB the helper's end is O_ASYNC, so the bytes arriving raise
 * SIGIO in the helper, which kicks the vCPU out of KVM_RUN (immediate_exit)
 * or the helper out of a guest's wait.
 */
#define SN_DBG_INTERRUPT 10U

/* Replies (helper to tender); a reply to CONT or STEP is STOPPED or EXITED. */
#define SN_DBG_OK 0x80U
#define SN_DBG_ERROR 0x81U /* arg: errno-style reason (SN_DBG_E_*) */
#define SN_DBG_STOPPED 0x82U /* data: struct sn_dbg_regs at the stop; arg: SN_DBG_STOP_* | signal << 8 */
#define SN_DBG_EXITED 0x83U /* arg: the guest's exit status; an abort (255) carries struct sn_dbg_regs */

#define SN_DBG_E_RANGE 1U /* address range outside guest memory */
#define SN_DBG_E_INVAL 2U /* bad op, length or slot */
#define SN_DBG_E_KVM 3U /* KVM refused (e.g. KVM_SET_GUEST_DEBUG) */

#define SN_DBG_STOP_STEP 1U
#define SN_DBG_STOP_HWBP 2U
#define SN_DBG_STOP_OTHER 3U /* another #DB, or an exception KVM reported */
#define SN_DBG_STOP_INTERRUPT 4U /* SN_DBG_INTERRUPT stopped the running guest */

struct sn_dbg_msg {
    uint32_t op;
    uint32_t len; /* bytes of data that follow */
    uint32_t arg;
    uint32_t pad;
    uint64_t addr;
};
SN_STATIC_ASSERT(sizeof(struct sn_dbg_msg) == 24, "debug message header");

/*
 * The registers as the tender wants them: the general registers in gdb's
 * amd64 order (rax rbx rcx rdx rsi rdi rbp rsp r8..r15), then what gdb and an
 * ELF core's prstatus need besides.
 */
struct sn_dbg_regs {
    uint64_t gpr[16];
    uint64_t rip;
    uint64_t rflags;
    uint64_t cs, ss, ds, es, fs, gs;
    uint64_t fs_base, gs_base;
    uint64_t cr0, cr2, cr3, cr4, efer;
};
SN_STATIC_ASSERT(sizeof(struct sn_dbg_regs) == 8 * 31, "debug register block");

#endif /* SN_HVT_DEBUG_H */
