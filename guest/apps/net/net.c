/* net.c: answers ARP and ICMP echo for the IPv4 address on its command line, on the net device "service". */
#include "net_responder.h"

/*
 * Command line: IP [COUNT]. With COUNT, exits with SUCCESS after that many
 * echo replies; without, serves until killed.
 */
int solo5_app_main(const struct solo5_start_info *si)
{
    struct responder r = { .dev = "service" };
    const char *p = si->cmdline;

    if (parse_ip(&p, r.ip) != 0 || parse_count(p) < 0) {
        sn_printf("usage: net IP [COUNT] (got '%s')\n", si->cmdline);
        return SOLO5_EXIT_FAILURE;
    }
    if (acquire(&r) != 0)
        return SOLO5_EXIT_FAILURE;
    return serve(&r, 1, (uint64_t)parse_count(p));
}
