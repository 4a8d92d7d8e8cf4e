/* netip.c: answers ARP and ping at the address it is given MirageOS-style (--ipv4=ADDR/PREFIX), for solo5-oci. */
#include "../../guest/apps/net/net_responder.h"

/*
 * solo5-oci appends --ipv4=ADDR/PREFIX and --ipv4-gateway=GW for the
 * container's interface; any other word on the command line is ignored, so
 * the image's own arguments may come first.
 */
static const char *find_ipv4(const char *p)
{
    static const char key[] = "--ipv4=";
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        size_t i = 0;
        while (key[i] != '\0' && p[i] == key[i])
            i++;
        if (key[i] == '\0')
            return p + i;
        while (*p != '\0' && *p != ' ')
            p++;
    }
    return NULL;
}

int solo5_app_main(const struct solo5_start_info *si)
{
    struct responder r = { .dev = "service" };
    const char *p = find_ipv4(si->cmdline);
    char quad[16];
    size_t n = 0;

    while (p != NULL && p[n] != '\0' && p[n] != '/' && p[n] != ' ' && n < sizeof quad - 1) {
        quad[n] = p[n];
        n++;
    }
    quad[n] = '\0';
    const char *q = quad;
    if (p == NULL || parse_ip(&q, r.ip) != 0) {
        sn_printf("usage: netip ... --ipv4=ADDR/PREFIX ... (got '%s')\n", si->cmdline);
        return SOLO5_EXIT_FAILURE;
    }
    if (acquire(&r) != 0)
        return SOLO5_EXIT_FAILURE;
    return serve(&r, 1, 0);
}
