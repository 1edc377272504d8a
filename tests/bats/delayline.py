#!/usr/bin/env python3
"""A delay line between two TUN devices, for kernels without sch_netem.

delayline.py DEV_A DEV_B DELAY_MS SECONDS: create TUN devices DEV_A and
DEV_B (layer 3, no packet information) in the current namespace, print
"ready", then copy every packet read from one to the other DELAY_MS later,
for SECONDS at most.  The test moves DEV_B into another namespace and gives
both addresses: the two namespaces then see a link with a fixed one-way
delay, which is what `tc qdisc add ... netem delay` would give.
"""
import fcntl
import heapq
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def main():
    a, b = tun(sys.argv[1]), tun(sys.argv[2])
    delay = float(sys.argv[3]) / 1000.0
    end = time.monotonic() + float(sys.argv[4])
    peer = {a: b, b: a}
    queue = []  # (due, n, fd, packet)
    n = 0
    print("ready", flush=True)
    while time.monotonic() < end:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, fd, pkt = heapq.heappop(queue)
            try:
                os.write(fd, pkt)
            except OSError:
                pass  # the device is down or moving: the packet is lost
        wait = min(queue[0][0] - now if queue else 0.05, end - now, 0.05)
        ready, _, _ = select.select([a, b], [], [], max(wait, 0))
        for fd in ready:
            while True:
                try:
                    pkt = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    break
                n += 1
                heapq.heappush(queue, (time.monotonic() + delay, n, peer[fd], pkt))


main()
