/* ping.c: resolves a peer by ARP and sends it ICMP echo requests one at a time, on the net device "service". */
#include "../net/net_responder.h"

/*
 * Command line: MYIP PEERIP COUNT. Prints the replies received and SUCCESS
 * when every request was answered. It answers ARP and echo for MYIP too, so
 * two of these can ping each other.
 */

static uint8_t out[ETH_HLEN + 28 + 64];
static uint8_t peer_mac[6];

static void send_arp_request(struct responder *r, const uint8_t peer[4])
{
    solo5_net_write(r->h, out, arp_request(r, out, peer));
}

static void send_echo(struct responder *r, const uint8_t peer[4], uint16_t seq)
{
    solo5_net_write(r->h, out, echo_request(r, out, peer_mac, peer, 0x5a5, seq));
}

/* One frame in `frame`: answer it if it is for us, else report what it was. 1 = ARP reply from peer, 2 = echo reply `seq`. */
static int classify(struct responder *r, size_t len, const uint8_t peer[4], uint16_t seq)
{
    if (len < ETH_HLEN)
        return 0;
    uint16_t type = get16(frame + 12);
    if (type == ETHERTYPE_ARP && len >= ETH_HLEN + 28) {
        const uint8_t *a = frame + ETH_HLEN;
        if (get16(a + 6) == 2 && memcmp(a + 14, peer, 4) == 0) {
            memcpy(peer_mac, a + 8, 6);
            return 1;
        }
        size_t n = answer_arp(r, frame, len);
        if (n)
            solo5_net_write(r->h, frame, n);
        return 0;
    }
    if (type == ETHERTYPE_IPV4 && len >= ETH_HLEN + 28) {
        const uint8_t *ip = frame + ETH_HLEN, *icmp = ip + (ip[0] & 0xf) * 4;
        if (ip[9] == IP_PROTO_ICMP && icmp[0] == ICMP_ECHO_REPLY && memcmp(ip + 12, peer, 4) == 0 &&
            get16(icmp + 6) == seq)
            return 2;
        size_t n = answer_icmp(r, frame, len);
        if (n)
            solo5_net_write(r->h, frame, n);
    }
    return 0;
}

/* Waits up to `timeout` for a frame that classify() rates `want`. */
static int wait_for(struct responder *r, const uint8_t peer[4], uint16_t seq, int want, solo5_time_t timeout)
{
    solo5_time_t deadline = solo5_clock_monotonic() + timeout;
    while (solo5_clock_monotonic() < deadline) {
        size_t len;
        solo5_result_t res = solo5_net_read(r->h, frame, sizeof frame, &len);
        if (res == SOLO5_R_AGAIN) {
            solo5_handle_set_t ready;
            solo5_yield(deadline, &ready);
            continue;
        }
        if (res == SOLO5_R_OK && classify(r, len, peer, seq) == want)
            return 1;
    }
    return 0;
}

int solo5_app_main(const struct solo5_start_info *si)
{
    struct responder r = { .dev = "service" };
    uint8_t peer[4];
    const char *p = si->cmdline;
    if (parse_ip(&p, r.ip) != 0 || parse_ip(&p, peer) != 0 || parse_count(p) <= 0) {
        sn_printf("usage: ping MYIP PEERIP COUNT (got '%s')\n", si->cmdline);
        return SOLO5_EXIT_FAILURE;
    }
    int64_t count = parse_count(p);
    if (acquire(&r) != 0)
        return SOLO5_EXIT_FAILURE;
    int resolved = 0;
    for (int tries = 0; tries < 50 && !resolved; tries++) {
        send_arp_request(&r, peer);
        resolved = wait_for(&r, peer, 0, 1, NS_PER_SEC / 10);
    }
    if (!resolved) {
        sn_printf("ping: no ARP reply from %u.%u.%u.%u\n", peer[0], peer[1], peer[2], peer[3]);
        return SOLO5_EXIT_FAILURE;
    }
    int64_t received = 0;
    for (int64_t i = 1; i <= count; i++) {
        send_echo(&r, peer, (uint16_t)i);
        received += wait_for(&r, peer, (uint16_t)i, 2, NS_PER_SEC);
    }
    sn_printf("ping: received=%ld of %ld\n", (long)received, (long)count);
    if (received != count)
        return SOLO5_EXIT_FAILURE;
    sn_puts("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
