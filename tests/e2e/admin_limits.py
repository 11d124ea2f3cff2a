# SPDX-License-Identifier: BSD-2-Clause
"""Slow clients cannot starve the master's sockets.  80 clients on the
admin socket that each send one byte every 2 s (reconnecting when
dropped) must not keep "affinityd status" out: each answers within its
5 s bound, and no slow client holds a slot for much longer than the 5 s
total deadline.  A client trickling bytes into the metrics port is
dropped after its 10 s deadline, and 300 idle metrics clients leave the
master holding at most 64 of them while a scrape still answers."""
import sys
sys.dont_write_bytecode = True

import http.client
import os
import socket
import threading
import time

from affinityd_test import (check, free_port, listener, run, say,
                            wait_until)
from metrics import MetricsDaemon

HOST = "127.0.0.1"
SLOW_CLIENTS = 80
TRICKLE_SEC = 2.0
ATTACK_SEC = 14.0
ADMIN_TIMEOUT = 5.0
METRICS_TIMEOUT = 10.0
METRICS_CONNS_MAX = 64
IDLE_METRICS = 300


class Trickler:
    """Clients that each send one byte every TRICKLE_SEC, reconnecting when
    the server drops them; records how long each connection lived."""

    def __init__(self, make, count, payload=b"s"):
        self.make = make
        self.payload = payload
        self.count = count
        self.held = []          # seconds each dropped connection lived
        self.open_max = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        socks = {}
        sent = {}
        while not self.stop.is_set():
            while len(socks) < self.count:
                s = self.make()
                if s is None:
                    break
                socks[s] = time.monotonic()
                sent[s] = 0
            self.open_max = max(self.open_max, len(socks))
            for s, t0 in list(socks.items()):
                try:
                    i = min(sent[s], len(self.payload) - 1)
                    s.send(self.payload[i:i + 1])
                    sent[s] += 1
                    s.setblocking(False)
                    try:
                        s.recv(4096)
                        # An answer (the deadline's error) or EOF: dropped.
                        raise ConnectionResetError
                    except BlockingIOError:
                        pass
                except OSError:
                    self.held.append(time.monotonic() - t0)
                    s.close()
                    del socks[s]
            self.stop.wait(TRICKLE_SEC)
        for s in socks:
            s.close()


def admin_client(path):
    def make():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
        except OSError:         # EAGAIN: the backlog is full
            s.close()
            return None
        return s
    return make


def tcp_client(port):
    def make():
        try:
            return socket.create_connection((HOST, port), timeout=1)
        except OSError:
            return None
    return make


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def scrape(port):
    t0 = time.monotonic()
    c = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        c.request("GET", "/metrics")
        r = c.getresponse()
        ok = r.status == 200 and r.read().startswith(b"# HELP")
    except OSError:
        ok = False
    finally:
        c.close()
    return ok, time.monotonic() - t0


def test_admin_and_trickle(d):
    admin = Trickler(admin_client(d.sock), SLOW_CLIENTS)
    # A request whose head never ends: one more header byte at a time.
    metrics = Trickler(tcp_client(d.metrics_port), 1,
                       b"GET /metrics HTTP/1.1\r\nX-Slow: a")
    admin.thread.start()
    metrics.thread.start()
    asked = answered = 0
    failures = []
    slowest = 0.0
    end = time.monotonic() + ATTACK_SEC
    try:
        while time.monotonic() < end:
            t0 = time.monotonic()
            r = run(["status", "-s", d.sock, "--json"], timeout=30)
            took = time.monotonic() - t0
            asked += 1
            answered += r.returncode == 0
            if r.returncode != 0:
                failures.append(f"exit {r.returncode} after {took:.2f} s: "
                                f"{r.stderr.strip()}")
            slowest = max(slowest, took)
            time.sleep(0.5)
    finally:
        admin.stop.set()
        metrics.stop.set()
        admin.thread.join(10)
        metrics.thread.join(10)
    held = max(admin.held) if admin.held else float("inf")
    say(f"admin: {SLOW_CLIENTS} clients sending a byte every {TRICKLE_SEC:.0f}"
        f" s for {ATTACK_SEC:.0f} s (at most {admin.open_max} open): status "
        f"answered {answered}/{asked}, slowest {slowest:.2f} s; "
        f"{len(admin.held)} slow connections dropped, the longest after "
        f"{held:.1f} s")
    mheld = metrics.held[0] if metrics.held else None
    say(f"metrics: a client sending a byte every {TRICKLE_SEC:.0f} s was "
        f"dropped after {'never' if mheld is None else f'{mheld:.1f} s'}")
    check(answered == asked, f"status answered {answered} of {asked} times "
          f"while slow clients held the admin socket: {'; '.join(failures)}")
    check(held <= ADMIN_TIMEOUT + TRICKLE_SEC + 1.5, f"a slow admin client "
          f"held its slot for {held:.1f} s, beyond the {ADMIN_TIMEOUT} s "
          f"deadline")
    check(mheld is not None and mheld <= METRICS_TIMEOUT + TRICKLE_SEC + 1.5,
          f"a trickling metrics client was not dropped after its "
          f"{METRICS_TIMEOUT} s deadline")


def test_idle_metrics(d):
    before = fds(d.pid)
    socks = []
    try:
        for _ in range(IDLE_METRICS):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect((HOST, d.metrics_port))
            except OSError:
                s.close()
                continue
            socks.append(s)
        # The master accepts them as fast as it can; wait until it has.
        peak = [0]

        def settled():
            n = fds(d.pid)
            peak[0] = max(peak[0], n)
            return n >= before + min(len(socks), METRICS_CONNS_MAX)
        wait_until(settled, 5)
        time.sleep(0.3)
        held = fds(d.pid) - before
        ok, took = scrape(d.metrics_port)
        say(f"metrics: {len(socks)} idle clients: the master holds {held} "
            f"more descriptors (limit {METRICS_CONNS_MAX}); a scrape "
            f"{'answered' if ok else 'FAILED'} in {took:.2f} s")
        check(held <= METRICS_CONNS_MAX + 1, f"{len(socks)} idle metrics "
              f"clients cost the master {held} descriptors")
        check(ok, "no scrape while idle clients were connected")
    finally:
        for s in socks:
            s.close()


def main():
    port = free_port()
    mport = free_port()
    d = MetricsDaemon([listener("echo", "tcp", port, "echo")],
                      f"{HOST}:{mport}", workers="0")
    d.metrics_port = mport
    d.start().wait_ready()
    test_idle_metrics(d)
    test_admin_and_trickle(d)
    check(d.status() is not None, "status does not answer after the test")
    rc = d.stop()
    d.kill()
    check(rc == 0, f"affinityd exited {rc}")
    say("PASS")


if __name__ == "__main__":
    main()
