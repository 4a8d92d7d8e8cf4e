/* s5h_trap.c: a CPU exception in a Solo5-ABI hvt guest: upstream's trap lines, then HALT 255 with the trap frame as cookie. */
#include "hvt.h"
#include "s5h.h"

/*
 * hvt/hvt_traps.S (shared with the ring-ABI hvt bindings) saves the state
 * and calls hvt_trap() in ring 3 on a stack of its own. Upstream's tender
 * reads the HALT cookie as its guest's trap frame, seven words in this
 * order (its dumpcore takes rip, cs, rflags, rsp and ss from it), so the
 * frame is rearranged into that shape before the HALT.
 */
struct s5h_cookie {
    uint64_t cr2, ec, rip, cs, rflags, rsp, ss;
};

static const char *const mnemonics[32] = {
    [0] = "#DE",  [1] = "#DB",  [2] = "#NMI", [3] = "#BP",  [4] = "#OF",  [5] = "#BR",
    [6] = "#UD",  [7] = "#NM",  [8] = "#DF",  [10] = "#TS", [11] = "#NP", [12] = "#SS",
    [13] = "#GP", [14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM",
    [20] = "#VE", [21] = "#CP", [29] = "#VC", [30] = "#SX",
};

#define VECTOR_PF 14U
#define VECTOR_SYSCALL 256U

void hvt_trap(const struct hvt_trap_frame *f)
{
    /* A fault while reporting one would come back here forever: the second time, halt at once. */
    static int reporting;
    static struct s5h_cookie cookie;
    if (reporting)
        s5h_halt(SOLO5_EXIT_ABORT, NULL);
    reporting = 1;

    cookie = (struct s5h_cookie){ f->cr2, f->error, f->rip, f->cs, f->rflags, f->rsp, f->ss };
    unsigned long v = (unsigned long)f->vector;
    if (v == VECTOR_SYSCALL) {
        /* An application's own `syscall`: upstream's guest, without EFER.SCE, gets #UD there. */
        sn_log(SN_LOG_ERROR, "trap: type=#UD ec=0x0 rip=0x%lx rsp=0x%lx rflags=0x%lx (system call %lu)",
               (unsigned long)f->rip, (unsigned long)f->rsp, (unsigned long)f->rflags,
               (unsigned long)f->error);
        cookie.ec = 0;
    } else {
        const char *name = v < 32 && mnemonics[v] != NULL ? mnemonics[v] : "#??";
        sn_log(SN_LOG_ERROR, "trap: type=%s ec=0x%lx rip=0x%lx rsp=0x%lx rflags=0x%lx", name,
               (unsigned long)f->error, (unsigned long)f->rip, (unsigned long)f->rsp,
               (unsigned long)f->rflags);
        if (v == VECTOR_PF)
            sn_log(SN_LOG_ERROR, "trap: cr2=0x%lx", (unsigned long)f->cr2);
    }
    sn_log(SN_LOG_ERROR, "ABORT: Fatal trap");
    s5h_halt(SOLO5_EXIT_ABORT, &cookie);
}
