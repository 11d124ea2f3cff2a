#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A large http.body stays within daemon.buffer_budget_kib: with a
1,000,000-byte body, peers that pipeline requests and never read cost the
worker no copy of the answer each (every answer references the listener's
one copy), so its RSS and buffered_bytes stay within the budget; every
answer arrives once they read, from the same worker: writing them a
bounded amount at a time, it keeps its heartbeat."""
import sys
sys.dont_write_bytecode = True

import socket
import time

from affinityd_test import asan_build, check, pinned, require_cpus, say, \
    vmrss_kib, wait_until
from conn_memory import REQUEST, peer, read_all, send_until_stalled, \
    start_http

PEERS = 300
REQUESTS = 5             # per peer, pipelined
BODY_LEN = 1000000
BUDGET_KIB = 8192
MARGIN_KIB = 2048        # the worker's own allocations beside the buffers


def settled(d):
    """Waits until worker 0 holds every peer and has written nothing more
    for longer than the status refresh (the sweep, once a second)."""
    last = [None, time.monotonic()]

    def still():
        w = d.workers()[0]
        if w["open_conns"] < PEERS:
            return False
        if w["bytes_out"] != last[0]:
            last[0], last[1] = w["bytes_out"], time.monotonic()
            return False
        return time.monotonic() - last[1] > 1.5

    check(wait_until(still, 60, 0.1), "worker 0 never settled: "
          f"{d.workers()[0]}")
    return d.workers()[0]


def main():
    require_cpus(0, 1)
    sanitized = asan_build()
    d, http = start_http(BUDGET_KIB, BODY_LEN)
    try:
        pid = d.workers()[0]["pid"]
        # Warm the worker up: one whole answer.
        with pinned(0):
            s = socket.create_connection(("127.0.0.1", http), timeout=5)
        s.sendall(REQUEST)
        read_all([s], {s: len(REQUEST)}, REQUEST, requests=1)
        s.close()
        before = vmrss_kib(pid)
        data = REQUEST * REQUESTS
        with pinned(0):
            peers = [peer(http) for _ in range(PEERS)]
        sent = send_until_stalled(peers, data)
        w = settled(d)
        held = vmrss_kib(pid)
        grew = held - before
        limit = BUDGET_KIB + MARGIN_KIB
        if sanitized:
            limit *= 2
        buffered_kib = w["buffered_bytes"] // 1024
        say(f"{PEERS} peers pipelined {REQUESTS} requests for a "
            f"{BODY_LEN}-byte body without reading; worker 0 holds "
            f"{w['open_conns']} connections, buffers {buffered_kib} KiB "
            f"(budget {BUDGET_KIB} KiB); its RSS grew by {grew} KiB "
            f"({before} -> {held} KiB), limit {limit} KiB")
        check(buffered_kib <= BUDGET_KIB + MARGIN_KIB,
              f"worker 0 buffers {buffered_kib} KiB, over the budget "
              f"{BUDGET_KIB} KiB")
        check(grew < limit, f"RSS grew by {grew} KiB, over {limit} KiB")
        got = read_all(peers, sent, data, requests=REQUESTS)
        say(f"all {got} answers arrived once the peers read")
        # Writing them must not keep the worker from its heartbeat.
        check(d.workers()[0]["pid"] == pid, "worker 0 was replaced while "
              "it wrote the answers:\n" + d.log_tail())
        for s in peers:
            s.close()
        check(wait_until(lambda: d.workers()[0]["open_conns"] == 0, 10),
              "the peers' connections stayed open")
    finally:
        d.kill()


if __name__ == "__main__":
    main()
