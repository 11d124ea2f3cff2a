# SPDX-License-Identifier: BSD-2-Clause
"""What peers that pipeline HTTP requests and never read cost a worker:
each connection buffers a few KiB, and all of them together stay within
daemon.buffer_budget_kib plus a little per connection; every answer still
arrives once they read, and the memory goes back once they are gone."""
import sys
sys.dont_write_bytecode = True

import os
import socket
import time

from affinityd_test import Daemon, asan_build, check, fail, free_port, \
    has_data, listener, pinned, require_cpus, say, vmrss_kib, wait_until

PEERS = 200
REQUESTS = 300           # per peer: 300 KB of answers each
BODY_LEN = 1000
BUDGET_KIB = 1024
PER_CONN_KIB = 24        # one read (16 KiB) and one backlog (4 KiB), rounded
REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
ANSWER_END = b"x\n"


def peer(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # Small segments keep the daemon's send buffer small (the kernel
    # sizes it by segments): what it owes waits in the worker instead.
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


def send_until_stalled(peers, data):
    """Sends DATA on every peer without reading, until each has sent all
    or the daemon has taken nothing more for a second."""
    sent = {s: 0 for s in peers}
    last = [time.monotonic()]

    def stalled():
        moved = False
        for s in peers:
            try:
                while sent[s] < len(data):
                    sent[s] += s.send(data[sent[s]:sent[s] + 65536])
                    moved = True
            except BlockingIOError:
                pass
        if moved:
            last[0] = time.monotonic()
        return time.monotonic() - last[0] > 1.0

    check(wait_until(stalled, 60, 0.05), "the senders never stalled")
    return sent


def read_all(peers, sent, data, requests=REQUESTS):
    """Reads REQUESTS answers on each peer, sending the rest of the
    requests meanwhile; returns how many answers arrived."""
    for s in peers:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    answers = {s: 0 for s in peers}
    tail = {s: b"" for s in peers}
    end = time.monotonic() + 90
    todo = set(peers)
    while todo:
        if time.monotonic() > end:
            fail(f"{sum(answers.values())} of {len(peers) * requests} answers "
                 f"within 90 s")
        for s in list(todo):
            if sent[s] < len(data):
                try:
                    sent[s] += s.send(data[sent[s]:sent[s] + 65536])
                except BlockingIOError:
                    pass
            try:
                chunk = s.recv(262144)
            except BlockingIOError:
                continue
            if not chunk:
                fail(f"EOF after {answers[s]} of {requests} answers")
            buf = tail[s] + chunk
            answers[s] += buf.count(ANSWER_END)
            tail[s] = buf[-(len(ANSWER_END) - 1):]
            if answers[s] == requests:
                todo.discard(s)
        if todo:
            has_data(next(iter(todo)), 0.01)
    return sum(answers.values())


def start_http(budget_kib, body_len):
    """Starts a daemon with one http listener answering BODY_LEN bytes
    ending in ANSWER_END, under a buffer budget of BUDGET_KIB; returns it
    and its port."""
    http = free_port()
    d = Daemon([listener("http", "tcp", http, "http")])
    text = d.config_text(d.listeners).replace(
        "daemon = {", f"daemon = {{\n  buffer_budget_kib = {budget_kib};", 1)
    text = text.replace('handler = "http"; }',
                        f'handler = "http"; http = {{ body = '
                        f'"{"x" * (body_len - 1)}\\n"; }}; }}')
    d.write_config(d.listeners, text)
    d.listeners = []  # answers() cannot ask http; status says ready
    # A sanitizer build keeps freed memory in quarantine, which would
    # count as RSS here; it changes nothing for other builds.
    asan = os.environ.get("ASAN_OPTIONS", "")
    d.start(env={"ASAN_OPTIONS": (asan + ":" if asan else "") +
                 "quarantine_size_mb=0"}).wait_ready()
    return d, http


def main():
    require_cpus(0, 1)
    sanitized = asan_build()
    d, http = start_http(BUDGET_KIB, BODY_LEN)
    try:
        pid = d.workers()[0]["pid"]
        # Warm the worker up: one connection's worth of buffers.
        with pinned(0):
            s = socket.create_connection(("127.0.0.1", http), timeout=5)
        s.sendall(REQUEST * 100)
        time.sleep(0.2)
        s.close()
        before = vmrss_kib(pid)
        data = REQUEST * REQUESTS
        with pinned(0):
            peers = [peer(http) for _ in range(PEERS)]
        sent = send_until_stalled(peers, data)
        held = vmrss_kib(pid)
        w = d.workers()[0]
        grew = held - before
        limit = BUDGET_KIB + PEERS * PER_CONN_KIB
        if sanitized:
            limit *= 2
        say(f"{PEERS} peers pipelined {sum(sent.values())} of "
            f"{PEERS * len(data)} request bytes without reading; worker 0 "
            f"holds {w['open_conns']} connections, buffers "
            f"{w['buffered_bytes'] // 1024} KiB (budget {BUDGET_KIB} KiB); "
            f"its RSS grew by {grew} KiB ({before} -> {held} KiB), "
            f"limit {limit} KiB")
        check(w["open_conns"] >= PEERS, f"worker 0 holds only "
              f"{w['open_conns']} of the {PEERS} peers")
        check(grew < limit, f"RSS grew by {grew} KiB, over {limit} KiB")
        got = read_all(peers, sent, data)
        say(f"all {got} answers arrived once the peers read")
        for s in peers:
            s.close()
        check(wait_until(lambda: d.workers()[0]["open_conns"] == 0, 10),
              "the peers' connections stayed open")
        after = wait_until(lambda: (lambda r: r if r - before < 2048
                                    else None)(vmrss_kib(pid)), 5)
        say(f"after the peers closed: RSS {vmrss_kib(pid)} KiB "
            f"({before} before them)")
        if sanitized:
            say("AddressSanitizer's allocator keeps freed memory: "
                "not checked")
            return
        check(after is not None, f"RSS stayed at {vmrss_kib(pid)} KiB after "
              f"the peers closed ({before} KiB before)")
    finally:
        d.kill()


if __name__ == "__main__":
    main()
