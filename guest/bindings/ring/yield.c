/* yield.c: solo5_yield over the rings: the exact set of net handles with input, or sleep until the deadline. */
#include "rings.h"
#include "platform.h"

/*
 * Set when the last yield found input. Traffic comes in bursts, so the next
 * yield spins briefly before it pays for a doorbell round trip; an idle
 * guest goes straight to sleep and burns nothing.
 */
static int recently_busy;

static solo5_handle_set_t spin_for_input(void)
{
    for (uint32_t i = 0; i < sn_platform_yield_polls; i++) {
        solo5_handle_set_t ready = sn_net_ready_set();
        if (ready != 0)
            return ready;
        sn_cpu_relax();
        /*
         * A `pause` keeps the CPU. If the process we exchange frames with
         * (ping, a peer guest) was woken on this CPU, it would wait for the
         * scheduler to preempt us, or for the spin to end: ping -f over a
         * tap took 2x as long whenever that happened (docs/decisions.md).
         */
        if ((i & (SN_SPIN_GIVE_EVERY - 1)) == SN_SPIN_GIVE_EVERY - 1)
            sn_platform_give_cpu();
    }
    return 0;
}

void solo5_yield(solo5_time_t deadline, solo5_handle_set_t *ready_set)
{
    solo5_handle_set_t ready = sn_net_ready_set();

    if (ready == 0 && deadline > solo5_clock_monotonic()) {
        /*
         * A spin helps only while the tender's pump runs on another CPU;
         * one that shares ours (the tender's CPU affinity, docs/decisions.md)
         * could not deliver anything until we stop.
         */
        if (recently_busy && sn_net_may_spin())
            ready = spin_for_input();
        if (ready == 0) {
            /*
             * Ask the tender to ring us on input, then look once more: a
             * frame that arrived before the flag was visible would not
             * ring, and sleeping past it would stall the guest.
             */
            sn_net_arm_rx(1);
            sn_fence();
            /*
             * The clock is a system call on spt: the first sleep skips the
             * deadline check, since the wait itself returns at once when
             * the deadline has passed, and the next round then sees it.
             */
            for (int first = 1;; first = 0) {
                ready = sn_net_ready_set();
                if (ready != 0 || (!first && deadline <= solo5_clock_monotonic()))
                    break;
                sn_platform_wait(deadline);
            }
            sn_net_arm_rx(0);
            ready = sn_net_ready_set();
        }
    }
    recently_busy = ready != 0;
    if (ready_set != NULL)
        *ready_set = ready;
}
