/* net_responder.h: ARP and ICMP echo answering for the net, net_2if and net_mtu test unikernels. */
#ifndef NET_RESPONDER_H
#define NET_RESPONDER_H

#include "solo5.h"
#include "sn_printf.h"

/*
 * Each app includes this header once (it defines static functions); the
 * three differ only in how many interfaces they serve and what they check
 * first. A frame is answered in place: the request buffer becomes the reply.
 */

void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#define ETH_HLEN SOLO5_NET_HLEN
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define IP_PROTO_ICMP 1
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define NS_PER_SEC 1000000000ULL

/* Room for any frame the API can hand over (the manifest's MTU is 16 bits). */
#define FRAME_MAX (65535 + ETH_HLEN)

struct responder {
    const char *dev;
    solo5_handle_t h;
    struct solo5_net_info info;
    uint8_t ip[4];
    uint64_t echo_replies;
    uint64_t arp_replies;
    uint64_t ignored;
    uint64_t dropped; /* replies the device refused (a full queue), counted and let go as a NIC would */
};

static uint8_t frame[FRAME_MAX];

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The Internet checksum (RFC 1071) of `len` bytes, as stored big-endian in a header. */
static uint16_t inet_checksum(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint64_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Parses a dotted quad at *s, leaving *s after it; returns 0 on success. */
static int parse_ip(const char **s, uint8_t ip[4])
{
    const char *p = *s;
    while (*p == ' ')
        p++;
    for (int i = 0; i < 4; i++) {
        unsigned v = 0, digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(*p++ - '0');
            digits++;
        }
        if (digits == 0 || v > 255 || (i < 3 && *p++ != '.'))
            return -1;
        ip[i] = (uint8_t)v;
    }
    if (*p != '\0' && *p != ' ')
        return -1;
    *s = p;
    return 0;
}

/* Parses an optional decimal count; 0 when absent (serve forever), -1 when malformed. */
static int64_t parse_count(const char *p)
{
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return 0;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9' && v < ((int64_t)1 << 50))
        v = v * 10 + (*p++ - '0');
    while (*p == ' ')
        p++;
    return *p == '\0' && v > 0 ? v : -1;
}

static int acquire(struct responder *r)
{
    solo5_result_t res = solo5_net_acquire(r->dev, &r->h, &r->info);
    if (res != SOLO5_R_OK) {
        sn_printf("net: acquire %s: result %d\n", r->dev, (int)res);
        return -1;
    }
    const uint8_t *m = r->info.mac_address;
    sn_printf("net: %s mac %02x:%02x:%02x:%02x:%02x:%02x mtu %lu ip %u.%u.%u.%u\n", r->dev, m[0], m[1], m[2],
              m[3], m[4], m[5], (unsigned long)r->info.mtu, r->ip[0], r->ip[1], r->ip[2], r->ip[3]);
    return 0;
}

/* The Ethernet header of a frame from us to `dst` in `f`. */
static void eth_header(const struct responder *r, uint8_t *f, const uint8_t dst[6], uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, r->info.mac_address, 6);
    put16(f + 12, type);
}

/* A broadcast ARP request from us for `target`, built in `f`; returns its length. */
static size_t arp_request(const struct responder *r, uint8_t *f, const uint8_t target[4])
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint8_t *a = f + ETH_HLEN;
    eth_header(r, f, bcast, ETHERTYPE_ARP);
    put16(a, 1);
    put16(a + 2, ETHERTYPE_IPV4);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, 1);
    memcpy(a + 8, r->info.mac_address, 6);
    memcpy(a + 14, r->ip, 4);
    for (int i = 18; i < 24; i++)
        a[i] = 0;
    memcpy(a + 24, target, 4);
    return ETH_HLEN + 28;
}

/* An IPv4 header (no options) from us to `dst` via next hop `mac`, in `f`; returns where the payload goes. */
static uint8_t *ipv4_out(const struct responder *r, uint8_t *f, const uint8_t mac[6], const uint8_t dst[4],
                         uint8_t proto, size_t total)
{
    uint8_t *ip = f + ETH_HLEN;
    eth_header(r, f, mac, ETHERTYPE_IPV4);
    for (int i = 0; i < 20; i++)
        ip[i] = 0;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)total);
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, r->ip, 4);
    memcpy(ip + 16, dst, 4);
    put16(ip + 10, inet_checksum(ip, 20));
    return ip + 20;
}

/* An ICMP echo request (32 bytes of payload) with `id` and `seq`, built in `f`; returns the frame length. */
static size_t echo_request(const struct responder *r, uint8_t *f, const uint8_t mac[6], const uint8_t dst[4],
                           uint16_t id, uint16_t seq)
{
    const size_t payload = 32, total = 20 + 8 + payload;
    uint8_t *icmp = ipv4_out(r, f, mac, dst, IP_PROTO_ICMP, total);
    icmp[0] = ICMP_ECHO_REQUEST;
    icmp[1] = 0;
    put16(icmp + 2, 0);
    put16(icmp + 4, id);
    put16(icmp + 6, seq);
    for (size_t i = 0; i < payload; i++)
        icmp[8 + i] = (uint8_t)(seq + i);
    put16(icmp + 2, inet_checksum(icmp, 8 + payload));
    return ETH_HLEN + total;
}

/* ARP request for our address: the reply goes back to the asker. Returns the reply length or 0. */
static size_t answer_arp(struct responder *r, uint8_t *f, size_t len)
{
    uint8_t *a = f + ETH_HLEN;
    if (len < ETH_HLEN + 28 || get16(a) != 1 || get16(a + 2) != ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 ||
        get16(a + 6) != 1 || memcmp(a + 24, r->ip, 4) != 0)
        return 0;
    put16(a + 6, 2);
    memcpy(a + 18, a + 8, 10); /* target = the asker's MAC and IP */
    memcpy(a + 8, r->info.mac_address, 6); /* sender = us */
    memcpy(a + 14, r->ip, 4);
    memcpy(f, a + 18, 6);
    memcpy(f + 6, r->info.mac_address, 6);
    r->arp_replies++;
    return ETH_HLEN + 28;
}

/* ICMP echo request to our address. Returns the reply length or 0. */
static size_t answer_icmp(struct responder *r, uint8_t *f, size_t len)
{
    uint8_t *ip = f + ETH_HLEN;
    if (len < ETH_HLEN + 20 || (ip[0] >> 4) != 4)
        return 0;
    size_t ihl = (size_t)(ip[0] & 0xf) * 4;
    size_t total = get16(ip + 2);
    if (ihl < 20 || total < ihl + 8 || total > len - ETH_HLEN || ip[9] != IP_PROTO_ICMP ||
        (get16(ip + 6) & 0x3fff) != 0 || memcmp(ip + 16, r->ip, 4) != 0 || inet_checksum(ip, ihl) != 0)
        return 0;
    uint8_t *icmp = ip + ihl;
    size_t icmp_len = total - ihl;
    if (icmp[0] != ICMP_ECHO_REQUEST || icmp[1] != 0 || inet_checksum(icmp, icmp_len) != 0)
        return 0;

    icmp[0] = ICMP_ECHO_REPLY;
    put16(icmp + 2, 0);
    put16(icmp + 2, inet_checksum(icmp, icmp_len));
    memcpy(ip + 16, ip + 12, 4);
    memcpy(ip + 12, r->ip, 4);
    ip[8] = 64;
    put16(ip + 10, 0);
    put16(ip + 10, inet_checksum(ip, ihl));
    memcpy(f, f + 6, 6);
    memcpy(f + 6, r->info.mac_address, 6);
    r->echo_replies++;
    return ETH_HLEN + total;
}

/* Reads every frame waiting on `r` and answers what is ours; returns the frames read, -1 on an I/O error. */
static int64_t drain(struct responder *r)
{
    for (int64_t frames = 0;; frames++) {
        size_t len;
        solo5_result_t res = solo5_net_read(r->h, frame, sizeof frame, &len);
        if (res == SOLO5_R_AGAIN)
            return frames;
        if (res != SOLO5_R_OK) {
            sn_printf("net: read %s: result %d\n", r->dev, (int)res);
            return -1;
        }
        size_t reply = 0;
        if (len >= ETH_HLEN && get16(frame + 12) == ETHERTYPE_ARP)
            reply = answer_arp(r, frame, len);
        else if (len >= ETH_HLEN && get16(frame + 12) == ETHERTYPE_IPV4)
            reply = answer_icmp(r, frame, len);
        if (reply == 0) {
            r->ignored++;
            continue;
        }
        /*
         * A refused write is a full transmit queue (a Solo5-ABI device fd is
         * non-blocking, and its reader may be slow): that reply is lost, as on
         * a real NIC, and serving goes on. It does not count as sent.
         */
        if (solo5_net_write(r->h, frame, reply) != SOLO5_R_OK) {
            r->dropped++;
            if (get16(frame + 12) == ETHERTYPE_ARP)
                r->arp_replies--;
            else
                r->echo_replies--;
        }
    }
}

/*
 * Serves `n` interfaces until each has sent `count` echo replies (forever
 * when count is 0). Every ready device is drained before the next yield, so
 * a burst costs one wake-up, not one per frame. It also holds solo5_yield to
 * its word: a bit for a handle that is not ours, or for one with nothing to
 * read, is counted as spurious and fails the run.
 */
static int serve(struct responder *rs, int n, uint64_t count)
{
    solo5_handle_set_t ours = 0;
    uint64_t spurious = 0;

    for (int i = 0; i < n; i++)
        ours |= 1ULL << rs[i].h;
    for (;;) {
        int done = count != 0;
        for (int i = 0; i < n; i++)
            if (rs[i].echo_replies < count || count == 0)
                done = 0;
        if (done)
            break;
        solo5_handle_set_t ready = 0;
        solo5_yield(solo5_clock_monotonic() + NS_PER_SEC, &ready);
        if (ready & ~ours)
            spurious++;
        for (int i = 0; i < n; i++) {
            if (!(ready & (1ULL << rs[i].h)))
                continue;
            int64_t got = drain(&rs[i]);
            if (got < 0)
                return SOLO5_EXIT_FAILURE;
            if (got == 0)
                spurious++;
        }
    }
    for (int i = 0; i < n; i++)
        sn_printf("net: %s: %lu echo replies, %lu ARP replies, %lu frames ignored, %lu replies dropped\n",
                  rs[i].dev, (unsigned long)rs[i].echo_replies, (unsigned long)rs[i].arp_replies,
                  (unsigned long)rs[i].ignored, (unsigned long)rs[i].dropped);
    if (spurious != 0) {
        sn_printf("FAILURE: solo5_yield reported %lu spurious ready bits\n", (unsigned long)spurious);
        return SOLO5_EXIT_FAILURE;
    }
    sn_puts("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}

#endif /* NET_RESPONDER_H */
