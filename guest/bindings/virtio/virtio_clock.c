/* virtio_clock.c: monotonic time from the TSC (calibrated against the PIT), wall time from the CMOS clock, and solo5_yield by polling. */
#include "virtio.h"

#define NSEC 1000000000ULL
/* The PIT's input clock, and a 10 ms count on channel 2 to time the TSC against. */
#define PIT_HZ 1193182ULL
#define PIT_CAL_COUNT (PIT_HZ / 100)
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_B 0x61
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71

static uint64_t tsc_base;
/* Nanoseconds per TSC tick as a 32.32 fixed-point number. */
static uint64_t ns_mult;
static uint64_t wall_base;

/*
 * Channel 2 counts down in mode 0 once its gate (port 0x61 bit 0) is up;
 * its output (port 0x61 bit 5) goes high at zero. The speaker (bit 1)
 * stays off. TSC ticks across that window give the TSC's rate.
 */
static uint64_t tsc_hz(void)
{
    uint8_t b = inb(PORT_B) & ~0x03;
    outb(PORT_B, b);
    outb(PIT_CMD, 0xb0); /* channel 2, low then high byte, mode 0, binary */
    outb(PIT_CH2, PIT_CAL_COUNT & 0xff);
    outb(PIT_CH2, PIT_CAL_COUNT >> 8);
    outb(PORT_B, b | 0x01);
    uint64_t t0 = virtio_rdtsc();
    for (uint64_t spins = 0; !(inb(PORT_B) & 0x20); spins++) {
        if (spins > 100000000ULL)
            return 0;
    }
    uint64_t t1 = virtio_rdtsc();
    outb(PORT_B, b);
    return (t1 - t0) * (PIT_HZ / PIT_CAL_COUNT);
}

static uint8_t cmos(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static uint64_t bcd(uint8_t v, int binary)
{
    return binary ? v : (uint64_t)(v >> 4) * 10 + (v & 0x0f);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; the civil-from-days inverse). */
static uint64_t days_from_civil(uint64_t y, uint64_t m, uint64_t d)
{
    y -= m <= 2;
    uint64_t era = y / 400, yoe = y - era * 400;
    uint64_t doy = (153 * (m + (m > 2 ? (uint64_t)-3 : 9)) + 2) / 5 + d - 1;
    uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The CMOS clock (UTC, as QEMU keeps it by default), read between updates, in seconds since 1970. */
static uint64_t rtc_seconds(void)
{
    for (int spins = 0; spins < 1000000 && (cmos(0x0a) & 0x80); spins++)
        ;
    uint8_t b = cmos(0x0b);
    int binary = b & 0x04;
    uint64_t s = bcd(cmos(0x00), binary), mi = bcd(cmos(0x02), binary);
    uint8_t hr = cmos(0x04);
    uint64_t h = bcd(hr & 0x7f, binary);
    if (!(b & 0x02) && (hr & 0x80)) /* 12-hour clock, PM */
        h = (h % 12) + 12;
    uint64_t d = bcd(cmos(0x07), binary), mo = bcd(cmos(0x08), binary), y = bcd(cmos(0x09), binary);
    uint64_t century = bcd(cmos(0x32), binary);
    y += (century >= 19 && century <= 99 ? century : 20) * 100;
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return 0;
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

void virtio_clock_init(void)
{
    uint64_t hz = tsc_hz();
    if (hz == 0) {
        sn_log(SN_LOG_ERROR, "ABORT: the PIT never counted down; cannot time the TSC");
        sn_platform_exit(SOLO5_EXIT_ABORT);
    }
    ns_mult = (uint64_t)(((unsigned __int128)NSEC << 32) / hz);
    tsc_base = virtio_rdtsc();
    wall_base = rtc_seconds() * NSEC;
    sn_log(SN_LOG_DEBUG, "TSC runs at %lu kHz", (unsigned long)(hz / 1000));
}

solo5_time_t solo5_clock_monotonic(void)
{
    return (solo5_time_t)(((unsigned __int128)(virtio_rdtsc() - tsc_base) * ns_mult) >> 32);
}

solo5_time_t solo5_clock_wall(void)
{
    return wall_base + solo5_clock_monotonic();
}

/*
 * Nothing interrupts the guest, so waiting is polling: the acquired net
 * devices' receive queues, until one has a frame or the deadline passes.
 */
void solo5_yield(solo5_time_t deadline, solo5_handle_set_t *ready_set)
{
    solo5_handle_set_t ready = 0;
    for (;;) {
        for (uint32_t i = 1; i < s5_entries; i++) {
            if (s5_dev(i, SN_MFT_DEV_NET_BASIC) != NULL &&
                virtio_net_pending(&virtio_devs[s5_devs[i].hostfd]))
                ready |= 1ULL << i;
        }
        if (ready != 0 || solo5_clock_monotonic() >= deadline)
            break;
        __asm__ volatile("pause");
    }
    if (ready_set != NULL)
        *ready_set = ready;
}
