# SPDX-License-Identifier: BSD-2-Clause
"""Connections that hold a worker without being served: more silent
connections from one CPU than its max_connections, and slowloris peers
that send a byte now and then.  The worker gives up its least recently
active idle connection for each new client when it is full, closes
connections without traffic after idle_timeout and requests not complete
within header_timeout, and counts each kind of close; clients that use
their connections are not disturbed."""
import sys
sys.dont_write_bytecode = True

import socket
import time

from affinityd_test import Daemon, check, fail, free_port, has_data, \
    listener, pinned, require_cpus, say, wait_until

MAX_CONNS = 40
IDLE = 1.0        # echo listener's idle_timeout
HEADER = 1.0      # http listener's header_timeout
REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setblocking(False)
    return s


def closed_by_peer(s):
    """True once the daemon closed s (EOF or reset)."""
    if not has_data(s, 0):
        return False
    try:
        return s.recv(4096) == b""
    except (ConnectionResetError, BlockingIOError):
        return True


def answered(port, timeout):
    """Whether a new client gets its HTTP answer within TIMEOUT."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(REQUEST)
        return has_data(s, timeout) and \
            s.recv(4096).startswith(b"HTTP/1.1 200 OK")
    except OSError:
        return False
    finally:
        s.close()


def worker0(d):
    return d.workers()[0]


def full_worker(d, http):
    """1.5 x max_connections silent connections from CPU 0 to a listener
    whose idle_timeout is long: the oldest are given up for the newer,
    and a client that then asks is answered at once."""
    with pinned(0):
        silent = [connect(http) for _ in range(MAX_CONNS * 3 // 2)]
        t0 = time.monotonic()
        ok = answered(http, 5.0)
        took = time.monotonic() - t0
    w = wait_until(lambda: (lambda w: w if w["evicted"] >=
                            MAX_CONNS // 2 else None)(worker0(d)), 10)
    gone = sum(closed_by_peer(s) for s in silent)
    say(f"full worker: {len(silent)} silent connections from CPU 0, "
        f"max_connections {MAX_CONNS}; a new client answered: {ok} "
        f"in {took:.2f} s; worker 0 holds {worker0(d)['open_conns']}, "
        f"gave up {gone} (evicted {w['evicted'] if w else '?'})")
    check(ok, "full worker: a new client on CPU 0 got no answer")
    check(w is not None, "full worker: evicted is not counted in status")
    for s in silent:
        s.close()


def idle(d, echo):
    """Silent echo connections close after idle_timeout; one that sends
    now and then stays open."""
    with pinned(1):
        silent = [connect(echo) for _ in range(30)]
        busy = connect(echo)
    before = d.workers()[1]["idle_timeouts"]
    t0 = time.monotonic()
    end = t0 + IDLE * 3
    open_, took = set(silent), None
    while time.monotonic() < end:
        busy.send(b"x")
        check(has_data(busy, 2.0) and busy.recv(16) == b"x",
              "idle: the busy echo connection got no echo")
        open_ -= {s for s in open_ if closed_by_peer(s)}
        if not open_ and took is None:
            took = time.monotonic() - t0
        time.sleep(IDLE / 10)
    left = not open_
    took = took or time.monotonic() - t0
    n = len(silent) - len(open_)
    counted = d.workers()[1]["idle_timeouts"] - before
    say(f"idle: {n} of {len(silent)} silent connections closed within "
        f"{took:.2f} s (idle_timeout {IDLE} s); counted {counted}; the "
        f"busy one, open for {IDLE * 3:.0f} s, is open: "
        f"{not closed_by_peer(busy)}")
    check(left, f"idle: {len(silent) - n} silent connections still open "
          f"after {took:.1f} s")
    check(took < IDLE + 1.5, f"idle: closing took {took:.1f} s")
    check(not closed_by_peer(busy), "idle: the busy connection was closed")
    check(counted >= len(silent), f"idle: {counted} idle_timeouts counted")
    for s in silent + [busy]:
        s.close()


def slowloris(d, http):
    """Peers that send a header a byte at a time, faster than any idle
    timeout, are closed once header_timeout passed since their request
    began; a keep-alive client with requests spaced out is not."""
    with pinned(1):
        slow = [connect(http) for _ in range(20)]
        client = connect(http)
    before = d.workers()[1]["header_timeouts"]
    for s in slow:
        s.send(b"GET / HTTP/1.1\r\nX-Slow: ")
    t0 = time.monotonic()
    answers = 0
    deadline = t0 + HEADER + 4.0
    while time.monotonic() < deadline:
        open_ = [s for s in slow if not closed_by_peer(s)]
        if not open_:
            break
        for s in open_:
            try:
                s.send(b"a")
            except OSError:
                pass
        client.send(REQUEST)
        if not has_data(client, 2.0):
            fail("slowloris: the keep-alive client got no answer")
        answers += client.recv(4096).count(b"HTTP/1.1 200 OK")
        time.sleep(0.2)
    took = time.monotonic() - t0
    n = sum(closed_by_peer(s) for s in slow)
    counted = d.workers()[1]["header_timeouts"] - before
    say(f"slowloris: {n} of {len(slow)} closed within {took:.2f} s "
        f"(header_timeout {HEADER} s, a byte every 0.2 s); counted "
        f"{counted}; the keep-alive client got {answers} answers and is "
        f"open: {not closed_by_peer(client)}")
    check(n == len(slow), f"slowloris: {len(slow) - n} still open after "
          f"{took:.1f} s")
    check(took < HEADER + 2.0, f"slowloris: closing took {took:.1f} s")
    check(not closed_by_peer(client), "slowloris: the keep-alive client "
          "was closed")
    check(counted >= len(slow), f"slowloris: {counted} counted")
    for s in slow + [client]:
        s.close()


def main():
    require_cpus(0, 1)
    echo, http = free_port(), free_port()
    d = Daemon([listener("echo", "tcp", echo, "echo"),
                listener("http", "tcp", http, "http")])
    text = d.config_text(d.listeners)
    text = text.replace("daemon = {", f"daemon = {{\n  max_connections = "
                        f"{MAX_CONNS};", 1)
    text = text.replace('handler = "echo"; }',
                        f'handler = "echo"; idle_timeout = {IDLE}; }}')
    text = text.replace('handler = "http"; }',
                        f'handler = "http"; idle_timeout = 30; '
                        f'header_timeout = {HEADER}; }}')
    d.write_config(d.listeners, text)
    # answers() knows how to ask echo; http is served by the same workers.
    d.listeners = d.listeners[:1]
    d.start().wait_ready()
    try:
        full_worker(d, http)
        idle(d, echo)
        slowloris(d, http)
    finally:
        d.kill()


if __name__ == "__main__":
    main()
