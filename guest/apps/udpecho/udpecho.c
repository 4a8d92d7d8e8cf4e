/* udpecho.c: a UDP echo on port 7 plus ICMP echo, on the net device "service", configured from its command line. */
#include "../net/net_responder.h"

/*
 * Command line (MirageOS-style, so that the tender's placeholders fit):
 *   --ipv4=ADDR/PREFIX [--ipv4-gateway=GW] [--ping=ADDR] [--send=PORT]
 * It answers ARP for ADDR, ICMP echo requests to ADDR and UDP datagrams to
 * ADDR port 7 (sent back to their source), until killed. --ping sends one
 * echo request a second to ADDR and prints each reply; --send sends one
 * datagram a second to GW port PORT (behind passt: the host's loopback).
 * The next hop is ARP-resolved: the peer itself on the subnet, else GW.
 */

#define IP_PROTO_UDP 17
#define ECHO_PORT 7
#define PING_ID 0x7e57
/* Each periodic send stops after this many, so a forgotten guest goes quiet. */
#define MAX_PERIODIC 600

struct hop {
    uint8_t ip[4];
    uint8_t mac[6];
    int known;
};

struct config {
    uint8_t prefix;
    uint8_t gw[4];
    int has_gw;
    uint8_t ping[4];
    int has_ping;
    uint16_t send_port;
};

static uint8_t out[ETH_HLEN + 20 + 8 + 64];
static uint64_t udp_echoed;

static int starts(const char *p, const char *key)
{
    while (*key)
        if (*p++ != *key++)
            return 0;
    return 1;
}

/* A decimal number up to `max` at *s, ended by `end` (or NUL or a space when `end` is 0). */
static int parse_num(const char **s, unsigned max, char end, unsigned *v)
{
    const char *p = *s;
    unsigned n = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 6) {
        n = n * 10 + (unsigned)(*p++ - '0');
        digits++;
    }
    if (digits == 0 || n > max || (end ? *p != end : (*p != '\0' && *p != ' ')))
        return -1;
    *v = n;
    *s = p;
    return 0;
}

static int parse_args(const char *p, struct responder *r, struct config *c)
{
    int has_ip = 0;
    unsigned v;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (starts(p, "--ipv4=")) {
            p += 7;
            const char *q = p;
            while (*q && *q != '/' && *q != ' ')
                q++;
            if (*q != '/')
                return -1;
            /* parse_ip wants its address ended by a space or NUL: check the digits up to '/' by hand. */
            char addr[16];
            size_t n = (size_t)(q - p);
            if (n >= sizeof addr)
                return -1;
            memcpy(addr, p, n);
            addr[n] = '\0';
            const char *a = addr;
            p = q + 1;
            if (parse_ip(&a, r->ip) != 0 || parse_num(&p, 32, 0, &v) != 0)
                return -1;
            c->prefix = (uint8_t)v;
            has_ip = 1;
        } else if (starts(p, "--ipv4-gateway=")) {
            p += 15;
            if (parse_ip(&p, c->gw) != 0)
                return -1;
            c->has_gw = 1;
        } else if (starts(p, "--ping=")) {
            p += 7;
            if (parse_ip(&p, c->ping) != 0)
                return -1;
            c->has_ping = 1;
        } else if (starts(p, "--send=")) {
            p += 7;
            if (parse_num(&p, 65535, 0, &v) != 0 || v == 0)
                return -1;
            c->send_port = (uint16_t)v;
        } else {
            return -1;
        }
    }
    return has_ip && (c->send_port == 0 || c->has_gw) ? 0 : -1;
}

static int same_subnet(const uint8_t a[4], const uint8_t b[4], unsigned prefix)
{
    for (unsigned bit = 0; bit < prefix; bit++)
        if (((a[bit / 8] ^ b[bit / 8]) >> (7 - bit % 8)) & 1)
            return 0;
    return 1;
}

/* The UDP checksum over the pseudo-header and `udp_len` bytes at `udp`; 0 is sent as 0xffff. */
static uint16_t udp_checksum(const uint8_t *ip, const uint8_t *udp, size_t udp_len)
{
    uint64_t sum = 0;
    for (int i = 12; i < 20; i += 2)
        sum += get16(ip + i);
    sum += IP_PROTO_UDP + udp_len;
    for (size_t i = 0; i + 1 < udp_len; i += 2)
        sum += get16(udp + i);
    if (udp_len & 1)
        sum += (uint64_t)udp[udp_len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t c = (uint16_t)~sum;
    return c == 0 ? 0xffff : c;
}

static void send_udp(struct responder *r, const struct hop *via, const uint8_t dst[4], uint16_t port,
                     uint64_t n)
{
    static const char msg[] = "udpecho says hello ";
    size_t len = sizeof msg - 1;
    uint8_t *udp = ipv4_out(r, out, via->mac, dst, IP_PROTO_UDP, 20 + 8 + len + 1), *ip = udp - 20;
    put16(udp, ECHO_PORT);
    put16(udp + 2, port);
    put16(udp + 4, (uint16_t)(8 + len + 1));
    put16(udp + 6, 0);
    memcpy(udp + 8, msg, len);
    udp[8 + len] = (uint8_t)('0' + n % 10);
    put16(udp + 6, udp_checksum(ip, udp, 8 + len + 1));
    solo5_net_write(r->h, out, ETH_HLEN + 20 + 8 + len + 1);
}

/* A UDP datagram to our port 7 in `frame`, turned around in place. Returns the reply length or 0. */
static size_t answer_udp(struct responder *r, uint8_t *f, size_t len)
{
    uint8_t *ip = f + ETH_HLEN;
    if (len < ETH_HLEN + 28 || (ip[0] >> 4) != 4)
        return 0;
    size_t ihl = (size_t)(ip[0] & 0xf) * 4;
    size_t total = get16(ip + 2);
    if (ihl < 20 || total < ihl + 8 || total > len - ETH_HLEN || ip[9] != IP_PROTO_UDP ||
        (get16(ip + 6) & 0x3fff) != 0 || memcmp(ip + 16, r->ip, 4) != 0 || inet_checksum(ip, ihl) != 0)
        return 0;
    uint8_t *udp = ip + ihl;
    size_t udp_len = get16(udp + 4);
    if (get16(udp + 2) != ECHO_PORT || udp_len < 8 || udp_len > total - ihl)
        return 0;
    if (ihl != 20) {
        /* Options are not echoed: move the datagram up behind a plain header. */
        for (size_t i = 0; i < udp_len; i++)
            ip[20 + i] = udp[i];
        udp = ip + 20;
        ip[0] = 0x45;
    }
    uint16_t sport = get16(udp);
    put16(udp, ECHO_PORT);
    put16(udp + 2, sport);
    put16(ip + 2, (uint16_t)(20 + udp_len));
    memcpy(ip + 16, ip + 12, 4);
    memcpy(ip + 12, r->ip, 4);
    ip[8] = 64;
    put16(ip + 10, 0);
    put16(ip + 10, inet_checksum(ip, 20));
    put16(udp + 6, 0);
    put16(udp + 6, udp_checksum(ip, udp, udp_len));
    memcpy(f, f + 6, 6);
    memcpy(f + 6, r->info.mac_address, 6);
    if (udp_echoed++ == 0)
        sn_printf("udpecho: first datagram from %u.%u.%u.%u:%u echoed\n", ip[16], ip[17], ip[18], ip[19],
                  sport);
    return ETH_HLEN + 20 + udp_len;
}

/* An ARP reply telling `hop`'s MAC, or an echo reply to our ping: note it. */
static void observe(struct hop *hop, const struct config *c, size_t len)
{
    uint16_t type = get16(frame + 12);
    if (type == ETHERTYPE_ARP && len >= ETH_HLEN + 28) {
        const uint8_t *a = frame + ETH_HLEN;
        if (!hop->known && get16(a + 6) == 2 && memcmp(a + 14, hop->ip, 4) == 0) {
            memcpy(hop->mac, a + 8, 6);
            hop->known = 1;
            sn_printf("udpecho: %u.%u.%u.%u is at %02x:%02x:%02x:%02x:%02x:%02x\n", hop->ip[0], hop->ip[1],
                      hop->ip[2], hop->ip[3], a[8], a[9], a[10], a[11], a[12], a[13]);
        }
    } else if (type == ETHERTYPE_IPV4 && c->has_ping && len >= ETH_HLEN + 28) {
        const uint8_t *ip = frame + ETH_HLEN, *icmp = ip + (ip[0] & 0xf) * 4;
        if ((size_t)(icmp - frame) + 8 <= len && ip[9] == IP_PROTO_ICMP && icmp[0] == ICMP_ECHO_REPLY &&
            memcmp(ip + 12, c->ping, 4) == 0)
            sn_printf("udpecho: ping reply from %u.%u.%u.%u seq %u\n", ip[12], ip[13], ip[14], ip[15],
                      get16(icmp + 6));
    }
}

static int drain_frames(struct responder *r, struct hop *hop, const struct config *c)
{
    for (;;) {
        size_t len;
        solo5_result_t res = solo5_net_read(r->h, frame, sizeof frame, &len);
        if (res == SOLO5_R_AGAIN)
            return 0;
        if (res != SOLO5_R_OK) {
            sn_printf("udpecho: read: result %d\n", (int)res);
            return -1;
        }
        if (len < ETH_HLEN)
            continue;
        size_t reply = 0;
        uint16_t type = get16(frame + 12);
        if (type == ETHERTYPE_ARP) {
            reply = answer_arp(r, frame, len);
        } else if (type == ETHERTYPE_IPV4) {
            reply = answer_udp(r, frame, len);
            if (reply == 0)
                reply = answer_icmp(r, frame, len);
        }
        if (reply != 0) {
            solo5_net_write(r->h, frame, reply);
            continue;
        }
        observe(hop, c, len);
    }
}

int solo5_app_main(const struct solo5_start_info *si)
{
    struct responder r = { .dev = "service" };
    struct config c = { 0 };
    struct hop hop = { 0 };
    if (parse_args(si->cmdline, &r, &c) != 0) {
        sn_printf(
            "usage: udpecho --ipv4=ADDR/PREFIX [--ipv4-gateway=GW] [--ping=ADDR] [--send=PORT] (got '%s')\n",
            si->cmdline);
        return SOLO5_EXIT_FAILURE;
    }
    if (acquire(&r) != 0)
        return SOLO5_EXIT_FAILURE;
    /* The periodic sends share one next hop: the gateway, unless only a ping goes to a neighbour. */
    int periodic = c.has_ping || c.send_port != 0;
    if (c.has_ping && c.send_port == 0 && (same_subnet(c.ping, r.ip, c.prefix) || !c.has_gw))
        memcpy(hop.ip, c.ping, 4);
    else
        memcpy(hop.ip, c.gw, 4);
    uint64_t ticks = 0;
    solo5_time_t next = solo5_clock_monotonic();
    for (;;) {
        solo5_time_t now = solo5_clock_monotonic();
        if (periodic && now >= next && ticks < MAX_PERIODIC) {
            next = now + NS_PER_SEC;
            if (!hop.known) {
                solo5_net_write(r.h, out, arp_request(&r, out, hop.ip));
            } else {
                ticks++;
                if (c.has_ping)
                    solo5_net_write(r.h, out,
                                    echo_request(&r, out, hop.mac, c.ping, PING_ID, (uint16_t)ticks));
                if (c.send_port != 0)
                    send_udp(&r, &hop, c.gw, c.send_port, ticks);
            }
        }
        solo5_handle_set_t ready = 0;
        solo5_yield(periodic && ticks < MAX_PERIODIC ? next : now + 10 * NS_PER_SEC, &ready);
        int was_known = hop.known;
        if ((ready & (1ULL << r.h)) && drain_frames(&r, &hop, &c) != 0)
            return SOLO5_EXIT_FAILURE;
        /* The first ping or datagram goes out as soon as the next hop answers. */
        if (!was_known && hop.known)
            next = solo5_clock_monotonic();
    }
}
