/* net_mtu.c: reports the MTU of "service", checks the size limits around it, answers large ICMP echoes. */
#include "../net/net_responder.h"

/*
 * Command line: IP [COUNT], as for the net app. Before serving it prints
 * mtu=N and checks that a frame one byte over mtu + 14 and a receive buffer
 * one byte short of it are refused with SOLO5_R_EINVAL, and that a frame of
 * exactly mtu + 14 bytes is accepted (sent to nobody, from us to us).
 */
int solo5_app_main(const struct solo5_start_info *si)
{
    struct responder r = { .dev = "service" };
    const char *p = si->cmdline;
    size_t got;

    if (parse_ip(&p, r.ip) != 0 || parse_count(p) < 0) {
        sn_printf("usage: net_mtu IP [COUNT] (got '%s')\n", si->cmdline);
        return SOLO5_EXIT_FAILURE;
    }
    if (acquire(&r) != 0)
        return SOLO5_EXIT_FAILURE;
    size_t max = r.info.mtu + SOLO5_NET_HLEN;
    sn_printf("mtu=%lu\n", (unsigned long)r.info.mtu);

    int bad = 0;
    if (solo5_net_write(r.h, frame, max + 1) != SOLO5_R_EINVAL) {
        sn_printf("net_mtu: a frame of mtu + 15 bytes was not refused\n");
        bad = 1;
    }
    if (solo5_net_read(r.h, frame, max - 1, &got) != SOLO5_R_EINVAL) {
        sn_printf("net_mtu: a buffer of mtu + 13 bytes was not refused\n");
        bad = 1;
    }
    memcpy(frame, r.info.mac_address, 6);
    memcpy(frame + 6, r.info.mac_address, 6);
    put16(frame + 12, 0x88b5);
    if (solo5_net_write(r.h, frame, max) != SOLO5_R_OK) {
        sn_printf("net_mtu: a frame of mtu + 14 bytes was refused\n");
        bad = 1;
    }
    if (bad)
        return SOLO5_EXIT_FAILURE;
    return serve(&r, 1, (uint64_t)parse_count(p));
}
