/* platform.h: the three device primitives each target provides to the shared ring code (doorbell out, sleep). */
#ifndef SN_PLATFORM_H
#define SN_PLATFORM_H

#include "solo5.h"

/*
 * The ring protocol (ring/rings.c, net.c, block.c, yield.c) is the same on
 * every target; only how the guest rings the tender and how it sleeps
 * differ. spt uses an eventfd write and an epoll wait (spt/spt_wait.c); hvt
 * will use hypercalls. Nothing else about devices is target-specific.
 */

/*
 * Wakes the tender: called after publishing ring entries when the tender's
 * consumer said it sleeps (cons_waiting), or after consuming entries when
 * the tender's producer waits for room (prod_waiting). Cheap to repeat.
 */
void sn_platform_kick(void);

/*
 * Sleeps until the monotonic clock reaches `deadline` or the tender rings
 * the guest's doorbell, whichever comes first, and consumes the doorbell.
 * It may return earlier (a signal, a stale ring): callers re-check their
 * condition and call again. A deadline already passed returns at once.
 */
void sn_platform_wait(solo5_time_t deadline);

/*
 * Lets another runnable task of this CPU run now, if there is one, and
 * returns when the guest is scheduled again. The spin in solo5_yield calls
 * it between looks at the rings (yield.c says why). spt makes it a
 * sched_yield; on hvt it does nothing, since a vCPU exit costs more than
 * the look it would make room for.
 */
void sn_platform_give_cpu(void);

/*
 * How many polls solo5_yield's spin makes before it sleeps: about what a
 * sleep and its wake-up cost the target, in `pause`s. A sleep on spt is a
 * system call and an eventfd wake-up; on hvt it is also a vCPU exit and a
 * re-entry, several times dearer (docs/decisions.md, "One hvt tap echo").
 */
extern const uint32_t sn_platform_yield_polls;

#endif /* SN_PLATFORM_H */
