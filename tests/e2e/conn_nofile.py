#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A worker out of file descriptors keeps serving new clients: started
with an open-file limit it cannot raise (hard 300) and max_connections at
its default 10000, it says so with the figures at start; then, with 400
silent connections from one CPU, it gives up its least recently active
idle connections for new ones, as at max_connections, and a new client
on that CPU gets its answer.  So does each of the clients still queued
when the worker drains (the daemon stops while the worker is held with
SIGSTOP): idle connections make room for them too, where they were
reset."""
import sys
sys.dont_write_bytecode = True

import os
import re
import resource
import shutil
import signal
import socket
import time

from affinityd_test import Daemon, check, fail, free_port, listener, \
    pinned, require_cpus, say, skip, wait_until

NOFILE = 300
SILENT = 400
QUEUED = 60	# more than a wakeup accepts (TCP_ACCEPT_BATCH, 16)
ANSWER_WITHIN = 5.0
REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def http_get(port, timeout):
    """The answer to one request on a new connection, or why not."""
    deadline = time.monotonic() + timeout
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(REQUEST)
        data = b""
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


def drain_queued(d, port):
    """Clients queued while the worker is held, then told to drain, are
    each answered, though the worker is out of descriptors."""
    worker = d.workers()[0]["pid"]
    os.kill(worker, signal.SIGSTOP)
    queued = []
    try:
        with pinned(0):
            for _ in range(QUEUED):
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                queued.append(s)
        os.kill(d.pid, signal.SIGTERM)
        check(wait_until(lambda: "stopping: draining" in d.log(), 10),
              "the master does not drain on SIGTERM:\n" + d.log_tail())
    finally:
        os.kill(worker, signal.SIGCONT)
    answered = reset = 0
    for s in queued:
        s.settimeout(ANSWER_WITHIN)
        try:
            answered += s.recv(4096).startswith(b"HTTP/1.1 200 ")
        except (ConnectionResetError, socket.timeout):
            reset += 1
        s.close()
    say(f"{QUEUED} clients queued when the worker drained: {answered} "
        f"answered, {reset} reset or unanswered")
    check(answered == QUEUED, f"{QUEUED - answered} of {QUEUED} clients "
          f"queued at the drain got no answer:\n" + d.log_tail())


def main():
    require_cpus(0, 1)
    if shutil.which("prlimit") is None:
        skip("no prlimit (util-linux)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < SILENT + 64:
        skip(f"this process may open {hard} files, the test needs "
             f"{SILENT + 64}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = free_port()
    d = Daemon([listener("http", "tcp", port, "http")], workers="0")
    d.prefix = ["prlimit", f"--nofile={NOFILE}:{NOFILE}", "--"]
    d.listeners = []  # answers() cannot ask http; status says ready
    d.start().wait_ready()
    silent = []
    try:
        m = re.search(r"open-file limit (\d+) \(hard (\d+)\) is below the "
                      r"(\d+) a worker needs for max_connections = (\d+)",
                      d.log())
        check(m is not None, "no warning that the open-file limit is below "
              "what max_connections needs:\n" + d.log_tail())
        check(m.group(1) == m.group(2) == str(NOFILE) and
              int(m.group(3)) > 10000 and m.group(4) == "10000",
              f"the warning has the wrong figures: {m.group(0)}")
        say(f"warned: {m.group(0)}")

        with pinned(0):
            for _ in range(SILENT):
                silent.append(socket.create_connection(("127.0.0.1", port),
                                                       timeout=5))
        # Every silent connection was accepted, or the worker gave up.
        check(wait_until(lambda: "Too many open files" in d.log(), 10),
              "the worker never ran out of descriptors:\n" + d.log_tail())
        w = d.workers()[0]
        say(f"{SILENT} silent connections: worker 0 holds "
            f"{w['open_conns']}, evicted {w['evicted']}")

        with pinned(0):
            start = time.monotonic()
            answer = http_get(port, ANSWER_WITHIN)
            took = time.monotonic() - start
        if not answer.startswith(b"HTTP/1.1 200 "):
            w = d.workers()[0]
            fail(f"a new client got {answer[:40]!r} within {ANSWER_WITHIN} "
                 f"s; worker 0 holds {w['open_conns']} connections, "
                 f"evicted {w['evicted']}:\n" + d.log_tail())
        say(f"a new client was answered in {took * 1000:.0f} ms")
        w = d.workers()[0]
        check(w["evicted"] + w["open_conns"] >= SILENT,
              f"worker 0 evicted {w['evicted']} with {w['open_conns']} "
              f"open connections")
        drain_queued(d, port)
    finally:
        for s in silent:
            s.close()
        d.kill()


if __name__ == "__main__":
    main()
