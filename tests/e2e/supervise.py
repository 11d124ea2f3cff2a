# SPDX-License-Identifier: BSD-2-Clause
"""Supervision: a second daemon on the same ports and a daemon whose port a
plain socket holds both exit 71 naming the listener; a worker killed with
SIGKILL comes back on the same CPU and serves the connections that waited
in its accept queue, while new connections keep succeeding; a worker
stopped with SIGSTOP is replaced within a few heartbeats; SIGTERM ends
everything within the shutdown timeout with exit 0; and a master killed
with SIGKILL leaves no worker behind."""
import sys
sys.dont_write_bytecode = True

import os
import signal
import socket
import threading
import time

from affinityd_test import (EXIT_OSERR, Daemon, alive, check, fail,
                            free_port, group_members, has_data, listener,
                            parse_info, pinned, recv_line, require_cpus, say,
                            tcp_echo, tcp_info, tcp_listening, udp_info,
                            wait_until)

HOST = "127.0.0.1"
CPUS = (0, 1)
QUEUED = 20		# connections left in a stopped worker's accept queue
STALE_BOUND = 10.0	# the master replaces a silent worker well within this
SHUTDOWN = 2.0		# daemon.shutdown_timeout

problems = []		# failures that let the remaining checks run first


def listeners(info, echo):
    return [listener("info", "tcp", info, "info"),
            listener("info-udp", "udp", info, "info"),
            listener("echo", "tcp", echo, "echo")]


def error_line(log, names, port):
    """The log line naming one of the listener NAMES and PORT."""
    for line in log.splitlines():
        if str(port) in line and any(f'"{n}"' in line for n in names):
            return line
    return None


def check_no_process_left(d, what):
    left = wait_until(lambda: not group_members(d.pgid), 5.0)
    check(left is not None, f"{what}: processes still running in the "
          f"daemon's process group: {group_members(d.pgid)}")


def check_serves(d, port, n=10):
    """N connections and datagrams from each CPU, all answered by D's
    workers."""
    pids = {w["pid"] for w in d.workers().values()}
    for cpu in CPUS:
        with pinned(cpu):
            for ask in (tcp_info, udp_info):
                for _ in range(n):
                    kv = ask(HOST, port)
                    check(kv["pid"] in pids, f"reply from pid {kv['pid']}, "
                          f"not one of the daemon's workers {sorted(pids)}")


def catch_intruder(b, info):
    """While B starts, watches for listening sockets on the port beyond
    those of the daemon already there (A).  If B gets to listen before it finds out the port is taken, B is
    frozen there and connections are made from both CPUs: every one should
    still reach A.  Returns how many were made and how many A did not
    answer; (0, 0) when B never listened."""
    ours = tcp_listening(info)
    caught = False
    end = time.monotonic() + 30.0
    while b.proc.poll() is None and time.monotonic() < end:
        if tcp_listening(info) > ours:
            os.killpg(b.pgid, signal.SIGSTOP)
            caught = True
            break
    if not caught:
        return 0, 0
    try:
        conns = []
        for cpu in CPUS:
            with pinned(cpu):
                conns += [socket.create_connection((HOST, info), timeout=5.0)
                          for _ in range(QUEUED)]
        end = time.monotonic() + 5.0
        lost = 0
        for c in conns:
            if not has_data(c, max(0.0, end - time.monotonic())):
                lost += 1
            c.close()
        return len(conns), lost
    finally:
        os.killpg(b.pgid, signal.SIGCONT)


def second_daemon(ls, info):
    """Starts a second daemon on LS; checks it exits 71 naming a listener
    and its port, before serving, leaving no process behind."""
    b = Daemon(ls).start()
    made, lost = catch_intruder(b, info)
    rc = b.wait_exit(30.0)
    check(rc is not None, f"a second daemon on the same ports is still "
          f"running after 30 s; log:\n{b.log_tail()}")
    check(rc == EXIT_OSERR, f"a second daemon on the same ports exited "
          f"{rc}, not {EXIT_OSERR}; log:\n{b.log_tail()}")
    line = error_line(b.log(), [l["name"] for l in ls], info)
    check(line, f"the second daemon's error names no listener and port "
          f"{info}; log:\n{b.log_tail()}")
    check("ready:" not in b.log(), f"the second daemon reported ready "
          f"before failing; log:\n{b.log_tail()}")
    check_no_process_left(b, "second daemon")
    b.kill()
    say(f"second daemon: exit {rc}: {line.strip()}; "
        + (f"{made - lost} of {made} connections made while it listened "
           f"reached the first" if made else "it never listened"))
    return made, lost


def test_second_daemon(a, ls, info):
    """Same ports, another admin socket: exit 71 naming listener and port,
    and the first daemon serves on, also while the second one starts.  A
    second daemon that listens before it finds out is frozen at that point
    to show what it takes; as it may be caught only as it dies, it gets a
    few tries."""
    for _ in range(3):
        made, lost = second_daemon(ls, info)
        if lost:
            # Reported at the end, so that the other checks still run.
            problems.append(
                f"while a second daemon was starting on the same ports, "
                f"{lost} of {made} connections to the first one went to the "
                f"second's sockets and were never answered: the second "
                f"daemon listens before it checks who holds the port")
            break
    check(a.proc.poll() is None, f"the first daemon exited "
          f"({a.proc.returncode}); log:\n{a.log_tail()}")
    check_serves(a, info)
    for w in a.workers().values():
        check(w["restarts"] == 0, f"first daemon: worker {w['id']} "
              f"restarted while the second one tried to start")


class Background(threading.Thread):
    """Connects from CPU 0 and CPU 1 in turn until told to stop; keeps what
    every connection got."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.replies, self.errors = [], []
        self.halt = threading.Event()

    def run(self):
        i = 0
        while not self.halt.is_set():
            cpu = CPUS[i % len(CPUS)]
            i += 1
            try:
                with pinned(cpu):
                    self.replies.append((cpu, tcp_info(HOST, self.port,
                                                       timeout=10.0)))
            except (OSError, SystemExit) as e:
                self.errors.append(f"from CPU {cpu}: {e!r}")

    def finish(self):
        self.halt.set()
        self.join(15.0)
        check(not self.is_alive(), "the background client hangs")


def test_respawn(a, info):
    """SIGKILL a stopped worker whose accept queue holds connections: the
    new worker on the same CPU answers every one of them."""
    w = a.workers()[1]
    old, restarts, accepted = w["pid"], w["restarts"], w["accepted"]
    os.kill(old, signal.SIGSTOP)
    conns = []
    try:
        with pinned(1):
            for _ in range(QUEUED):
                conns.append(socket.create_connection((HOST, info),
                                                      timeout=5.0))
        # The worker is stopped, so these sit in its accept queue.
        check(not any(has_data(c, 0.0) for c in conns),
              "a stopped worker answered a connection")
        bg = Background(info)
        bg.start()
        t0 = time.monotonic()
        os.kill(old, signal.SIGKILL)
        new = set()
        first = None
        for c in conns:
            kv = parse_info(recv_line(c, 10.0))
            first = first or time.monotonic() - t0
            check(kv["pid"] != old, f"a queued connection was answered by "
                  f"the killed worker {old}")
            check(kv["cpu"] == 1, f"a queued connection was answered on "
                  f"CPU {kv['cpu']}, not 1: {kv}")
            new.add(kv["pid"])
        check(len(new) == 1, f"queued connections answered by several "
              f"pids {sorted(new)}")
        pid = new.pop()

        def respawned():
            w = a.workers()[1]
            return w if w["pid"] == pid and w.get("state", "ready") == \
                "ready" else None
        w = wait_until(respawned, 10.0)
        ready = time.monotonic() - t0
        check(w is not None, f"status does not show the new worker {pid} "
              f"on CPU 1: {a.workers()[1]}")
        # A few more rounds from both CPUs with the new worker in place.
        n = len(bg.replies)
        wait_until(lambda: len(bg.replies) >= n + 10 or bg.errors, 10.0)
        bg.finish()
    finally:
        for c in conns:
            c.close()
        if alive(old):
            os.kill(old, signal.SIGKILL)
    check(not bg.errors, f"connections failed while the worker was "
          f"replaced: {bg.errors[:5]}")
    check(len(bg.replies) >= 10, f"only {len(bg.replies)} connections made "
          f"while the worker was replaced")
    ws = a.workers()
    for cpu, kv in bg.replies:
        check(kv["cpu"] == cpu and kv["pid"] in (ws[cpu]["pid"], old),
              f"a connection from CPU {cpu} got {kv} while the worker was "
              f"replaced")
    check(w["cpu"] == 1, f"respawned on CPU {w['cpu']}")
    check(w["restarts"] == restarts + 1, f"restarts {w['restarts']} after "
          f"one respawn (was {restarts})")
    check(not alive(old), f"killed worker {old} still runs")
    check(w["accepted"] >= accepted + QUEUED, f"status of CPU 1 after the "
          f"respawn: accepted {w['accepted']}, below {accepted} before plus "
          f"{QUEUED} queued: the respawn lost the counters")
    say(f"SIGKILL: worker {old} -> {pid} on CPU 1; first queued connection "
        f"answered after {first:.3f} s, status ready after {ready:.3f} s; "
        f"{QUEUED} queued and {len(bg.replies)} concurrent connections "
        f"served")


def test_stopped(a):
    """A worker stopped with SIGSTOP misses its heartbeats and is replaced
    on the same CPU."""
    w = a.workers()[0]
    old, restarts = w["pid"], w["restarts"]
    t0 = time.monotonic()
    os.kill(old, signal.SIGSTOP)
    try:
        def replaced():
            w = a.workers()[0]
            return w if w["pid"] not in (0, old) and \
                w.get("state", "ready") == "ready" else None
        w = wait_until(replaced, STALE_BOUND, 0.1)
        took = time.monotonic() - t0
        check(w is not None, f"a worker stopped with SIGSTOP was not "
              f"replaced within {STALE_BOUND} s: {a.workers()[0]}; "
              f"log:\n{a.log_tail()}")
    finally:
        if alive(old):
            os.kill(old, signal.SIGKILL)
    check(wait_until(lambda: not alive(old), 5.0), f"the stopped worker "
          f"{old} still exists after its replacement")
    check(w["cpu"] == 0 and w["restarts"] == restarts + 1,
          f"replacement: cpu {w['cpu']}, restarts {w['restarts']} "
          f"(was {restarts})")
    with pinned(0):
        kv = tcp_info(HOST, a.info_port)
    check(kv["pid"] == w["pid"], f"CPU 0 is served by {kv['pid']}, not the "
          f"replacement {w['pid']}")
    say(f"SIGSTOP: worker {old} on CPU 0 replaced by {w['pid']} after "
        f"{took:.2f} s")


def test_sigterm(a):
    """SIGTERM with an idle connection open: exit 0 within the shutdown
    timeout, the connection closed, no process left."""
    pids = [w["pid"] for w in a.workers().values()]
    idle = socket.create_connection((HOST, a.echo_port), timeout=5.0)
    try:
        idle.sendall(b"still here\n")
        check(recv_line(idle, 5.0) == b"still here\n", "echo failed")
        t0 = time.monotonic()
        rc = a.stop()
        took = time.monotonic() - t0
        check(rc is not None, f"SIGTERM: still running after "
              f"{SHUTDOWN + 8} s; log:\n{a.log_tail()}")
        check(rc == 0, f"SIGTERM: exit status {rc}; log:\n{a.log_tail()}")
        check(took <= SHUTDOWN + 5.0, f"SIGTERM took {took:.1f} s with "
              f"shutdown_timeout {SHUTDOWN}")
        check(recv_line(idle, 5.0) == b"", "the idle connection was not "
              "closed when the daemon stopped")
    finally:
        idle.close()
    check_no_process_left(a, "SIGTERM")
    check(not [p for p in pids if alive(p)], f"workers {pids} still run "
          f"after SIGTERM")
    say(f"SIGTERM: exit 0 after {took:.2f} s with an idle connection open "
        f"(shutdown_timeout {SHUTDOWN})")


def test_master_killed():
    info, echo = free_port(), free_port()
    d = Daemon(listeners(info, echo)).start().wait_ready()
    try:
        pids = [w["pid"] for w in d.workers().values()]
        t0 = time.monotonic()
        os.kill(d.pid, signal.SIGKILL)
        d.proc.wait(10)
        gone = wait_until(lambda: not [p for p in pids if alive(p)], 5.0)
        check(gone, f"workers {[p for p in pids if alive(p)]} still run "
              f"after the master was killed")
        took = time.monotonic() - t0
        refused = wait_until(lambda: not tcp_answers(info), 5.0)
        check(refused, f"port {info} still answers after the master and "
              f"its workers died")
        say(f"master SIGKILL: workers gone after {took:.3f} s")
    finally:
        d.kill()


def tcp_answers(port):
    try:
        tcp_info(HOST, port, timeout=1.0)
        return True
    except OSError:
        return False


def test_port_taken():
    """A plain socket holds the port: exit 71 before serving, naming the
    listener, address and port; the plain socket is left alone."""
    port, other = free_port(), free_port()
    plain = socket.socket()
    try:
        plain.bind((HOST, port))
        plain.listen(8)
        d = Daemon([listener("other", "tcp", other, "info"),
                    listener("taken", "tcp", port, "info")]).start()
        rc = d.wait_exit(30.0)
        check(rc is not None, f"a daemon whose port is taken still runs "
              f"after 30 s; log:\n{d.log_tail()}")
        check(rc == EXIT_OSERR, f"a daemon whose port is taken exited {rc}, "
              f"not {EXIT_OSERR}; log:\n{d.log_tail()}")
        line = error_line(d.log(), ["taken"], port)
        check(line and HOST in line, f"the error does not name listener "
              f"\"taken\", {HOST} and port {port}; log:\n{d.log_tail()}")
        check("ready:" not in d.log(), f"the daemon reported ready before "
              f"failing; log:\n{d.log_tail()}")
        check_no_process_left(d, "port taken")
        d.kill()
        c = socket.create_connection((HOST, port), timeout=5.0)
        plain.settimeout(5.0)
        plain.accept()[0].close()
        c.close()
        say(f"port taken: exit {rc}: {line.strip()}")
    finally:
        plain.close()


def main():
    require_cpus(*CPUS)
    test_port_taken()
    info, echo = free_port(), free_port()
    ls = listeners(info, echo)
    a = Daemon(ls, shutdown_timeout=SHUTDOWN).start().wait_ready()
    a.info_port, a.echo_port = info, echo
    try:
        ws = a.workers()
        check(sorted(ws) == list(CPUS), f"workers on CPUs {sorted(ws)}")
        check(tcp_echo(HOST, echo, b"x" * 1000) == b"x" * 1000, "echo failed")
        test_second_daemon(a, ls, info)
        test_respawn(a, info)
        test_stopped(a)
        test_sigterm(a)
    finally:
        a.kill()
    test_master_killed()
    if problems:
        fail("; ".join(problems))
    say("supervise: all checks passed")


if __name__ == "__main__":
    main()
