/* net_2if.c: answers ARP and ICMP echo on two net devices at once, "service0" and "service1". */
#include "../net/net_responder.h"

/*
 * Command line: IP0 IP1 [COUNT]. With COUNT, exits with SUCCESS once each
 * interface has sent that many echo replies; without, serves until killed.
 */
int solo5_app_main(const struct solo5_start_info *si)
{
    struct responder r[2] = { { .dev = "service0" }, { .dev = "service1" } };
    const char *p = si->cmdline;

    if (parse_ip(&p, r[0].ip) != 0 || parse_ip(&p, r[1].ip) != 0 || parse_count(p) < 0) {
        sn_printf("usage: net_2if IP0 IP1 [COUNT] (got '%s')\n", si->cmdline);
        return SOLO5_EXIT_FAILURE;
    }
    if (acquire(&r[0]) != 0 || acquire(&r[1]) != 0)
        return SOLO5_EXIT_FAILURE;
    if (r[0].h == r[1].h) {
        sn_printf("net_2if: both devices got handle %lu\n", (unsigned long)r[0].h);
        return SOLO5_EXIT_FAILURE;
    }
    return serve(r, 2, (uint64_t)parse_count(p));
}
