/* netbench.c: sends or counts raw Ethernet frames on "service" as fast as it can, for packets-per-second figures. */
#include "solo5.h"
#include "sn_printf.h"

/* Provided by the bindings (the guest has no libc headers). */
void *memset(void *dst, int c, size_t n);
int strncmp(const char *a, const char *b, size_t n);

/*
 * Command line:
 *   tx COUNT SIZE [MAC]  sends COUNT frames of SIZE bytes (Ethernet header
 *                        included) to MAC, broadcast by default; prints
 *                        sent=N ns=T.
 *   rx COUNT             prints "netbench: ready mac=..." then counts
 *                        benchmark frames until COUNT arrived or none came for
 *                        5 s; prints received=N ns=T, T from the first frame
 *                        to the last.
 * Frames carry EtherType 0x88b5 (IEEE local experimental) and a sequence
 * number, so stray traffic (ARP, IPv6 chatter) is not counted.
 */
#define ETHERTYPE_BENCH 0x88b5
#define NS_PER_SEC 1000000000ULL
#define IDLE_NS (5 * NS_PER_SEC)
#define FRAME_MAX (65535 + SOLO5_NET_HLEN)

static uint8_t frame[FRAME_MAX];
static solo5_handle_t h;
static struct solo5_net_info info;

static const char *parse_u64(const char *p, uint64_t *v)
{
    while (*p == ' ')
        p++;
    if (*p < '0' || *p > '9')
        return NULL;
    for (*v = 0; *p >= '0' && *p <= '9' && *v < (1ULL << 50); p++)
        *v = *v * 10 + (uint64_t)(*p - '0');
    return p;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int parse_mac(const char *p, uint8_t mac[6])
{
    while (*p == ' ')
        p++;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
        if (lo < 0 || (i < 5 && p[2] != ':'))
            return -1;
        mac[i] = (uint8_t)(hi << 4 | lo);
        p += i < 5 ? 3 : 2;
    }
    return *p == '\0' || *p == ' ' ? 0 : -1;
}

static int bench_tx(uint64_t count, uint64_t size, const uint8_t dst[6])
{
    if (size < SOLO5_NET_HLEN + 8 || size > info.mtu + SOLO5_NET_HLEN) {
        sn_printf("netbench: SIZE must be from %u to %lu\n", SOLO5_NET_HLEN + 8,
                  (unsigned long)(info.mtu + SOLO5_NET_HLEN));
        return SOLO5_EXIT_FAILURE;
    }
    memset(frame, 0x5a, size);
    for (int i = 0; i < 6; i++) {
        frame[i] = dst[i];
        frame[6 + i] = info.mac_address[i];
    }
    frame[12] = ETHERTYPE_BENCH >> 8;
    frame[13] = ETHERTYPE_BENCH & 0xff;
    solo5_time_t start = solo5_clock_monotonic();
    uint64_t sent = 0;
    for (; sent < count; sent++) {
        for (int i = 0; i < 8; i++)
            frame[SOLO5_NET_HLEN + i] = (uint8_t)(sent >> (8 * i));
        solo5_result_t r = solo5_net_write(h, frame, size);
        if (r != SOLO5_R_OK) {
            sn_printf("netbench: write: result %d\n", (int)r);
            break;
        }
    }
    sn_printf("sent=%lu ns=%lu\n", (unsigned long)sent, (unsigned long)(solo5_clock_monotonic() - start));
    return sent == count ? SOLO5_EXIT_SUCCESS : SOLO5_EXIT_FAILURE;
}

static int bench_rx(uint64_t count)
{
    const uint8_t *m = info.mac_address;
    sn_printf("netbench: ready mac=%02x:%02x:%02x:%02x:%02x:%02x\n", m[0], m[1], m[2], m[3], m[4], m[5]);
    uint64_t received = 0;
    solo5_time_t first = 0, last = solo5_clock_monotonic();
    while (received < count) {
        size_t len;
        solo5_result_t r = solo5_net_read(h, frame, sizeof frame, &len);
        if (r == SOLO5_R_OK) {
            if (len >= SOLO5_NET_HLEN && frame[12] == (ETHERTYPE_BENCH >> 8) &&
                frame[13] == (ETHERTYPE_BENCH & 0xff)) {
                /* The clock is read once per 64 frames: on some hypervisors a
                 * TSC read traps, and the figure is about the rings. */
                if (received == 0 || (received & 63) == 63 || received + 1 == count)
                    last = solo5_clock_monotonic();
                if (received++ == 0)
                    first = last;
            }
            continue;
        }
        if (r != SOLO5_R_AGAIN) {
            sn_printf("netbench: read: result %d\n", (int)r);
            return SOLO5_EXIT_FAILURE;
        }
        solo5_time_t now = solo5_clock_monotonic();
        if (now - last >= IDLE_NS)
            break;
        solo5_yield(last + IDLE_NS, NULL);
    }
    sn_printf("received=%lu ns=%lu\n", (unsigned long)received, (unsigned long)(last - first));
    return SOLO5_EXIT_SUCCESS;
}

int solo5_app_main(const struct solo5_start_info *si)
{
    const char *p = si->cmdline;
    uint64_t count = 0, size = 0;
    uint8_t dst[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    if (solo5_net_acquire("service", &h, &info) != SOLO5_R_OK) {
        sn_printf("netbench: cannot acquire service\n");
        return SOLO5_EXIT_FAILURE;
    }
    if (strncmp(p, "rx ", 3) == 0 && parse_u64(p + 3, &count) != NULL && count > 0)
        return bench_rx(count);
    if (strncmp(p, "tx ", 3) == 0 && (p = parse_u64(p + 3, &count)) != NULL &&
        (p = parse_u64(p, &size)) != NULL && (*p == '\0' || parse_mac(p, dst) == 0))
        return bench_tx(count, size, dst);
    sn_printf("usage: netbench tx COUNT SIZE [MAC] | rx COUNT\n");
    return SOLO5_EXIT_FAILURE;
}
