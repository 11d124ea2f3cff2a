# SPDX-License-Identifier: BSD-2-Clause
"""What the TCP serving path must not lose while it saves system calls:
a client that reads slowly still gets every byte of a 1 MB echo; 10,000
pipelined HTTP requests from a client that does not read keep the
workers' memory bounded, and every one is answered, in order, once it
reads; SIGTERM with connections in the middle of a request still answers
them (with "Connection: close") before the daemon exits 0.  The HTTP
listener has defer_accept set, so that path is the one taken."""
import sys
sys.dont_write_bytecode = True

import os
import signal
import socket
import threading
import time

from affinityd_test import Daemon, check, fail, free_port, has_data, \
    listener, pinned, require_cpus, say, vmrss_kib, wait_until

BODY_LEN = 1000
REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
HEAD_END = b"\r\n\r\n"


def workers_rss(d):
    return sum(vmrss_kib(w["pid"]) for w in d.workers().values())


def small_client(port, rcvbuf=4096):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    return s


def slow_reader(port):
    """1 MB sent at once, read back 4 KiB at a time with pauses through a
    small receive buffer: the server's send buffer fills, and what waits
    must still all arrive, unchanged and in order."""
    payload = os.urandom(1 << 20)
    s = small_client(port)
    s.settimeout(30)
    err = []

    def send():
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=send)
    t.start()
    got = bytearray()
    end = time.monotonic() + 60
    while len(got) < len(payload) and time.monotonic() < end:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
        time.sleep(0.0005)
    t.join(30)
    s.close()
    check(not err, f"slow reader: sending failed: {err}")
    check(len(got) == len(payload),
          f"slow reader: {len(got)} of {len(payload)} bytes came back")
    check(got == payload, "slow reader: the echo differs from what was sent")
    say("slow reader: all of 1 MB came back through a 4 KiB window")


def pipelined(d, port, n=10000):
    """N requests sent without reading: the daemon stops reading once its
    backlog of answers is full, so the workers' memory stays bounded
    although N answers (about 10 MB) are owed; then every one arrives."""
    before = workers_rss(d)
    s = small_client(port)
    s.setblocking(False)
    data = REQUEST * n
    sent = 0
    last = [sent, time.monotonic()]

    def stalled():
        nonlocal sent
        try:
            while sent < len(data):
                sent += s.send(data[sent:sent + 65536])
        except BlockingIOError:
            pass
        if sent == len(data):
            return True
        if sent != last[0]:
            last[0], last[1] = sent, time.monotonic()
        return time.monotonic() - last[1] > 1.0

    check(wait_until(stalled, 30, 0.05),
          "pipelined: the sender neither finished nor stalled")
    grew = workers_rss(d) - before
    say(f"pipelined: {sent} of {len(data)} request bytes taken while not "
        f"reading; workers' RSS grew by {grew} KiB")
    owed = n * BODY_LEN // 1024
    check(grew < 4096, f"pipelined: RSS grew by {grew} KiB while "
          f"{owed} KiB of answers were owed")
    # Now read: every answer arrives, in order.
    got = bytearray()
    answers = 0
    end = time.monotonic() + 60
    while answers < n:
        if time.monotonic() > end:
            fail(f"pipelined: {answers} of {n} answers within 60 s")
        if sent < len(data):
            try:
                sent += s.send(data[sent:sent + 65536])
            except BlockingIOError:
                pass
        if not has_data(s, 1.0):
            continue
        chunk = s.recv(65536)
        if not chunk:
            fail(f"pipelined: EOF after {answers} of {n} answers")
        got += chunk
        while True:
            i = got.find(HEAD_END)
            if i < 0 or len(got) < i + 4 + BODY_LEN:
                break
            check(got.startswith(b"HTTP/1.1 200 OK\r\n"),
                  f"pipelined: answer {answers} is {bytes(got[:40])!r}")
            del got[:i + 4 + BODY_LEN]
            answers += 1
    s.close()
    say(f"pipelined: all {n} answers arrived once the client read")


def mid_request_shutdown(d, port):
    """Per worker CPU, one idle keep-alive connection (a draining worker
    closes it after a grace second without a request, which tells the
    test the drain began) and two connections with half a request; after
    SIGTERM the halves are completed and each gets its answer with
    "Connection: close", also one the worker accepted only once it
    drained."""
    idle, mid = [], []
    for cpu in (0, 1):
        with pinned(cpu):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(REQUEST)
            check(has_data(s, 10), "shutdown: no answer before SIGTERM")
            s.recv(65536)
            idle.append(s)
            for _ in range(2):
                m = socket.create_connection(("127.0.0.1", port), timeout=10)
                m.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                mid.append(m)
    d.proc.send_signal(signal.SIGTERM)
    for s in idle:
        check(has_data(s, 10) and s.recv(4096) == b"",
              "shutdown: an idle connection stayed open after SIGTERM")
        s.close()
    for m in mid:
        m.sendall(b"\r\n")
        data = b""
        while True:
            chunk = m.recv(65536)
            if not chunk:
                break
            data += chunk
        m.close()
        check(data.startswith(b"HTTP/1.1 200 OK\r\n") and
              b"Connection: close\r\n" in data,
              f"shutdown: a request cut by SIGTERM got {data[:80]!r}")
    rc = d.wait_exit(d.shutdown_timeout + 8.0)
    check(rc == 0, f"shutdown: exit status {rc}; log:\n{d.log_tail()}")
    say("shutdown: both requests in flight per worker were answered")


def main():
    require_cpus(0, 1)
    echo, http = free_port(), free_port()
    d = Daemon([listener("echo", "tcp", echo, "echo"),
                listener("http", "tcp", http, "http")],
               shutdown_timeout=10.0)
    text = d.config_text(d.listeners).replace(
        'handler = "http"; }',
        f'handler = "http"; defer_accept = true; '
        f'http = {{ body = "{"x" * (BODY_LEN - 1)}\\n"; }}; }}')
    d.write_config(d.listeners, text)
    # answers() knows how to ask echo; http is served by the same workers.
    d.listeners = d.listeners[:1]
    # A sanitizer build keeps freed memory in quarantine, which would
    # count as RSS here; it changes nothing for other builds.
    asan = os.environ.get("ASAN_OPTIONS", "")
    d.start(env={"ASAN_OPTIONS": (asan + ":" if asan else "") +
                 "quarantine_size_mb=0"}).wait_ready()
    try:
        slow_reader(echo)
        pipelined(d, http)
        mid_request_shutdown(d, http)
    finally:
        d.kill()


if __name__ == "__main__":
    main()
