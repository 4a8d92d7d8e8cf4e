/* time.c: checks the clocks and solo5_yield: monotonic advances, sleeps last as asked, the wall clock is sane. */
#include "solo5.h"
#include "sn_printf.h"

#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL
/* 2020-01-01T00:00:00Z: any host clock worth trusting is past it. */
#define WALL_2020 (1577836800ULL * NSEC_PER_SEC)

static int failures;

static void expect(int ok, const char *what, solo5_time_t value)
{
    if (!ok) {
        sn_printf("time: %s (value %llu)\n", what, (unsigned long long)value);
        failures++;
    }
}

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    solo5_handle_set_t ready = ~0ULL;

    /* Monotonic: never backwards, and it moves while we spin. */
    solo5_time_t t0 = solo5_clock_monotonic(), t1 = t0;
    for (int i = 0; i < 1000000 && t1 == t0; i++)
        t1 = solo5_clock_monotonic();
    expect(t1 > t0, "monotonic clock does not advance", t1 - t0);

    /* A 100 ms sleep: at least that long, and not absurdly longer. */
    solo5_time_t start = solo5_clock_monotonic();
    solo5_yield(start + 100 * NSEC_PER_MSEC, &ready);
    solo5_time_t slept = solo5_clock_monotonic() - start;
    expect(slept >= 100 * NSEC_PER_MSEC, "yield returned before its deadline", slept);
    expect(slept < NSEC_PER_SEC, "yield overslept by more than 900 ms", slept);
    expect(ready == 0, "nothing can be ready, yet the ready set is not empty", ready);

    /* Deadlines already past, 0 included, return at once. */
    start = solo5_clock_monotonic();
    ready = ~0ULL;
    solo5_yield(0, &ready);
    solo5_yield(start - 1, NULL);
    solo5_yield(start, NULL);
    solo5_time_t spent = solo5_clock_monotonic() - start;
    expect(spent < 50 * NSEC_PER_MSEC, "yield with a past deadline blocked", spent);
    expect(ready == 0, "ready set not cleared by a past-deadline yield", ready);

    /* Wall clock: after 2020 and moving forward. */
    solo5_time_t w0 = solo5_clock_wall();
    expect(w0 > WALL_2020, "wall clock is before 2020", w0);
    solo5_yield(solo5_clock_monotonic() + 10 * NSEC_PER_MSEC, NULL);
    solo5_time_t w1 = solo5_clock_wall();
    expect(w1 > w0, "wall clock did not move across a 10 ms sleep", w1 - w0);

    if (failures != 0) {
        sn_puts("FAILURE\n");
        return SOLO5_EXIT_FAILURE;
    }
    sn_puts("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
