#!/usr/bin/env python3
# kping.py: ICMP echo from the host kernel's IP stack (raw socket), for tap tests and the tap benchmark.
# Usage: kping.py TARGET COUNT [TIMEOUT_S]; prints "sent=N received=M" and one RTT in microseconds per line.
# TIMEOUT_S (default 30) is how long one echo may take: long, so that a loaded machine, or an ARP
# request the kernel retries after a second, makes a reply late rather than lost; only a reply that
# never comes is missing. Late replies to an earlier echo are skipped by sequence number.
import os, socket, struct, sys, time

def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def main():
    target, count = sys.argv[1], int(sys.argv[2])
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.settimeout(timeout)
    ident = os.getpid() & 0xFFFF
    rtts = []
    for seq in range(1, count + 1):
        payload = bytes((seq + i) & 0xFF for i in range(56))
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq & 0xFFFF)
        pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, seq & 0xFFFF) + payload
        t0 = time.perf_counter_ns()
        sock.sendto(pkt, (target, 0))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, addr = sock.recvfrom(65535)
            except socket.timeout:
                break
            ihl = (data[0] & 0xF) * 4
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if typ == 0 and rid == ident and rseq == seq & 0xFFFF and addr[0] == target and data[ihl + 8:] == payload:
                rtts.append((time.perf_counter_ns() - t0) // 1000)
                break
    print("sent=%d received=%d" % (count, len(rtts)))
    for r in rtts:
        print(r)

main()
