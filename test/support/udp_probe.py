#!/usr/bin/env python3
"""udp_probe.py: UDP echo client and one-shot listener the passt tests and bench run inside their namespace.

  udp_probe.py echo HOST PORT COUNT [SEED]  send COUNT datagrams one at a time, each waiting for its echo;
                                            prints "echoed=N of COUNT" and "rtt_us=MEDIAN" (exit 0 if all came back)
  udp_probe.py listen HOST PORT             print "listening", then the first datagram: "got=TEXT from=ADDR"
"""
import random
import socket
import statistics
import sys
import time

# Only bounds a failing run: an echo normally takes well under a millisecond.
REPLY_TIMEOUT_S = 5.0
LISTEN_TIMEOUT_S = 120.0


def echo(host, port, count, seed):
    rng = random.Random(seed)
    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(REPLY_TIMEOUT_S)
    s.connect((host, port))
    got = 0
    rtts = []
    for i in range(count):
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))) + i.to_bytes(4, 'big')
        t0 = time.perf_counter()
        s.send(payload)
        try:
            while True:
                reply = s.recv(65536)
                if reply == payload:
                    break
        except socket.timeout:
            continue
        rtts.append((time.perf_counter() - t0) * 1e6)
        got += 1
    print(f'echoed={got} of {count}')
    if rtts:
        print(f'rtt_us={statistics.median(rtts):.1f}')
    return 0 if got == count else 1


def listen(host, port):
    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
    s.settimeout(LISTEN_TIMEOUT_S)
    print('listening', flush=True)
    data, addr = s.recvfrom(65536)
    print(f'got={data.decode("ascii", "replace")} from={addr[0]}', flush=True)
    return 0


def main(argv):
    if len(argv) >= 5 and argv[1] == 'echo':
        seed = int(argv[5]) if len(argv) > 5 else 1
        return echo(argv[2], int(argv[3]), int(argv[4]), seed)
    if len(argv) == 4 and argv[1] == 'listen':
        return listen(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
