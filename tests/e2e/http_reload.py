# SPDX-License-Identifier: BSD-2-Clause
"""A reload loses no request of a keep-alive HTTP client.  Draining workers
closed their idle keep-alive connections at once, so a client sending
requests back to back on one connection lost the one it had just sent,
about one per reload.  Clients now keep sending through 10 reloads: every
request is answered, the old generation's last answer on a connection says
"Connection: close", and the client goes on on a new connection.  A
connection left idle through a reload is closed within its grace second
plus a margin."""
import sys
sys.dont_write_bytecode = True

import os
import socket
import threading
import time

from affinityd_test import (Daemon, check, fail, free_port, listener,
                            recv_line, say)

HOST = "127.0.0.1"
CLIENTS = 2
RELOADS = 10
REQUEST = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
IO_TIMEOUT = 10.0
IDLE_CLOSE = 1.0 + 4.0	# the grace second, and a margin


class Client(threading.Thread):
    """Sends requests back to back on one connection, reconnecting after
    an answer with "Connection: close"; counts what happens."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.halt = threading.Event()
        self.answered = self.lost = self.closes = self.connects = 0
        self.errors = []

    def response(self, s):
        """The head of one answer and whether it closes; None on EOF."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return None
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            chunk = s.recv(4096)
            if not chunk:
                return None
            body += chunk
        return head, b"connection: close" in head.lower()

    def run(self):
        s = None
        while not self.halt.is_set():
            try:
                if s is None:
                    s = socket.create_connection((HOST, self.port),
                                                 timeout=IO_TIMEOUT)
                    self.connects += 1
                s.sendall(REQUEST)
                r = self.response(s)
            except OSError as e:
                self.errors.append(repr(e))
                r = None
            if r is None or not r[0].startswith(b"HTTP/1.1 200"):
                self.lost += 1
            else:
                self.answered += 1
            if r is None or r[1]:
                self.closes += r is not None
                if s is not None:
                    s.close()
                s = None
        if s is not None:
            s.close()


def main():
    cpu = min(os.sched_getaffinity(0))
    port = free_port()
    echo = listener("echo", "tcp", free_port(), "echo")
    d = Daemon([listener("http", "tcp", port, "http"), echo],
               workers=str(cpu))
    d.listeners = [echo]	# what wait_ready() knows how to ask
    d.start().wait_ready()
    idle = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
    idle.sendall(REQUEST)
    check(b"200" in recv_line(idle, IO_TIMEOUT), "no answer on the idle "
          "connection")
    clients = [Client(port) for _ in range(CLIENTS)]
    for c in clients:
        c.start()
    gens = []
    for i in range(RELOADS):
        r = d.reload("--wait", "-s", d.sock)
        check(r.returncode == 0, f"reload {i + 1}: exit {r.returncode}: "
              f"{r.stderr.strip()}")
        gens.append(d.status()["generation"])
        if i == 0:
            t0 = time.monotonic()
            idle.settimeout(IDLE_CLOSE)
            try:
                while idle.recv(65536):
                    pass
            except socket.timeout:
                fail(f"the idle connection is still open {IDLE_CLOSE} s "
                     f"after the reload")
            except ConnectionResetError:
                pass
            idle_took = time.monotonic() - t0
    for c in clients:
        c.halt.set()
    for c in clients:
        c.join(IO_TIMEOUT + 5)
        check(not c.is_alive(), "a client hangs")
    answered = sum(c.answered for c in clients)
    lost = sum(c.lost for c in clients)
    closes = sum(c.closes for c in clients)
    say(f"{RELOADS} reloads (generations {gens[0]}..{gens[-1]}), "
        f"{CLIENTS} back-to-back keep-alive clients: {answered} requests "
        f"answered, {lost} lost, {closes} answers with Connection: close, "
        f"{sum(c.connects for c in clients)} connections")
    say(f"a connection idle through the reload closed after "
        f"{idle_took:.2f} s")
    check(lost == 0, f"{lost} request(s) lost: "
          f"{[e for c in clients for e in c.errors][:5]}")
    check(closes >= RELOADS, f"only {closes} answers said Connection: "
          f"close over {RELOADS} reloads")
    check(d.stop() == 0, "the daemon did not stop cleanly")
    d.kill()
    say("PASS")


if __name__ == "__main__":
    main()
