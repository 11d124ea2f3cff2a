# SPDX-License-Identifier: BSD-2-Clause
"""A worker the master cannot start again: with the master out of
descriptors (its RLIMIT_NOFILE lowered under the descriptors it holds, so
every new one fails with EMFILE), a killed worker cannot be forked.  The
master logs each failure as "what: why", retries with back-off, and lets
go of the dead worker's sockets within about a second, so clients pinned
to that CPU are answered by the other worker meanwhile; connections left
in the dead worker's accept queue move there with
net.ipv4.tcp_migrate_req = 1 or are reset with 0, and none waits for
ever (the scenario runs again in a network namespace of its own with
the other value).  Once descriptors are free again the worker comes back on its CPU
with fresh sockets and serves that CPU's clients, and a reload passes the
port check with those sockets."""
import sys
sys.dont_write_bytecode = True

import os
import resource
import signal
import socket
import subprocess
import time

from affinityd_test import (Daemon, check, free_port, has_data, listener,
                            parse_info, pinned, recv_line, require_cpus, say,
                            skip, udp_info, wait_until)

HOST = "127.0.0.1"
CPUS = (0, 1)
DOWN = 1		# the CPU whose worker is killed
QUEUED = 10		# connections waiting in its accept queue when it dies
ROUNDS = 50		# connections (and datagrams) checked at each stage
HANDOFF_BOUND = 5.0	# the master lets go of the sockets within about 1 s
RESPAWN_BOUND = 40.0	# the next try is at most 30 s away
EXHAUSTED = 3		# RLIMIT_NOFILE: stdio only, every new descriptor fails


def migrate_req():
    try:
        with open("/proc/sys/net/ipv4/tcp_migrate_req") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def set_nofile(pid, limits):
    try:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, limits)
    except PermissionError as e:
        skip(f"cannot change the daemon's RLIMIT_NOFILE: {e}")


def ask(port, cpu, timeout=1.0):
    """The info reply to one connection made from CPU, or None when none
    came within TIMEOUT (queued where nobody accepts, or reset)."""
    with pinned(cpu):
        try:
            with socket.create_connection((HOST, port),
                                          timeout=timeout) as s:
                line = recv_line(s, timeout)
        except OSError:
            return None
    return parse_info(line) if line.endswith(b"\n") else None


def served_by(port, cpu, pid, n=ROUNDS):
    """N connections and N datagrams from CPU: how many of each PID
    answered."""
    tcp = sum(1 for _ in range(n)
              if (ask(port, cpu, 5.0) or {}).get("pid") == pid)
    with pinned(cpu):
        udp = sum(1 for _ in range(n) if udp_info(HOST, port)["pid"] == pid)
    return tcp, udp


def queue_on(port, cpu, n):
    """N connections from CPU, left waiting in the accept queue of a
    stopped worker."""
    with pinned(cpu):
        return [socket.create_connection((HOST, port), timeout=5.0)
                for _ in range(n)]


def outcome(conns, pid):
    """How the queued connections ended: (answered by PID, reset or
    closed, still waiting) after a bounded wait."""
    answered = reset = waiting = 0
    end = time.monotonic() + 5.0
    for c in conns:
        if not has_data(c, max(0.0, end - time.monotonic())):
            waiting += 1
            continue
        try:
            line = recv_line(c, 1.0)
        except OSError:
            line = b""
        if line.endswith(b"\n") and parse_info(line)["pid"] == pid:
            answered += 1
        else:
            reset += 1
        c.close()
    return answered, reset, waiting


def failures(d):
    return [l for l in d.log().splitlines()
            if f"CPU {DOWN}: socketpair: " in l and "retrying in" in l]


def exhausted_stage(d, port, keep, dead):
    """DEAD's worker is killed while the master has no descriptor left:
    KEEP (the other worker) answers the dead one's CPU."""
    os.kill(dead, signal.SIGSTOP)
    conns = queue_on(port, DOWN, QUEUED)
    check(not any(has_data(c, 0.0) for c in conns),
          "a stopped worker answered a connection")
    t0 = time.monotonic()
    os.kill(dead, signal.SIGKILL)
    try:
        first = wait_until(lambda: (ask(port, DOWN) or {}).get("pid") ==
                           keep, HANDOFF_BOUND, 0.0)
        handoff = time.monotonic() - t0
        check(first, f"with the master out of descriptors and the worker on "
              f"CPU {DOWN} dead, no connection from CPU {DOWN} was answered "
              f"by the other worker within {HANDOFF_BOUND} s; log:\n"
              f"{d.log_tail()}")
        tcp, udp = served_by(port, DOWN, keep)
        check(tcp == ROUNDS and udp == ROUNDS, f"from CPU {DOWN}, worker "
              f"{keep} answered {tcp} of {ROUNDS} connections and {udp} of "
              f"{ROUNDS} datagrams while the worker there was down")
        answered, reset, waiting = outcome(conns, keep)
    finally:
        for c in conns:
            c.close()
    check(waiting == 0 and answered + reset == QUEUED, f"of {QUEUED} "
          f"connections queued on the dead worker's socket, {answered} were "
          f"answered, {reset} reset and {waiting} still wait")
    if migrate_req() == 1:
        check(answered == QUEUED, f"tcp_migrate_req is 1, yet only "
              f"{answered} of {QUEUED} queued connections were answered by "
              f"the other worker ({reset} reset)")
    tries = wait_until(lambda: len(failures(d)) >= 2 and failures(d),
                       HANDOFF_BOUND)
    check(tries, f"the master did not log a failed start and a retry as "
          f"\"worker N on CPU {DOWN}: socketpair: ...; retrying in N ms\"; "
          f"log:\n{d.log_tail()}")
    check(d.proc.poll() is None, f"the master exited "
          f"({d.proc.returncode}); log:\n{d.log_tail()}")
    say(f"descriptors exhausted: worker {dead} on CPU {DOWN} killed; CPU "
        f"{DOWN}'s clients answered by worker {keep} after {handoff:.2f} s, "
        f"then {tcp}/{ROUNDS} connections and {udp}/{ROUNDS} datagrams; "
        f"{QUEUED} queued: {answered} answered, {reset} reset, {waiting} "
        f"waiting (tcp_migrate_req={migrate_req()}); {len(tries)} failed "
        f"start(s) so far: {tries[0].split(': ', 1)[-1]}")


def no_room_stage(d):
    """The master has room for a fork but not for the sockets the new
    worker hands back: that start fails in the master too, and is retried
    like a failed fork.  The limit leaves exactly two descriptor numbers
    free: the socketpair takes both and gives one back after the fork, so
    the second of the worker's two sockets finds no room."""
    fds = {int(n) for n in os.listdir(f"/proc/{d.pid}/fd")}
    free = [n for n in range(max(fds) + 3) if n not in fds]
    hard = resource.prlimit(d.pid, resource.RLIMIT_NOFILE)[1]
    set_nofile(d.pid, (free[1] + 1, hard))

    def lost():
        return [l for l in d.log().splitlines() if f"CPU {DOWN}: receiving "
                f"its sockets: " in l and "retrying in" in l]
    line = wait_until(lost, RESPAWN_BOUND)
    check(line, f"with room for the fork but not for the worker's sockets, "
          f"the master did not log \"worker N on CPU {DOWN}: receiving its "
          f"sockets: ...; retrying in N ms\"; log:\n{d.log_tail()}")
    check(d.proc.poll() is None, f"the master exited "
          f"({d.proc.returncode}); log:\n{d.log_tail()}")
    say(f"no room for the worker's sockets (RLIMIT_NOFILE {free[1] + 1}): "
        f"{line[0].split(': ', 1)[-1]}")


def respawned(d, dead, bound=RESPAWN_BOUND):
    """The worker on CPU DOWN once one other than DEAD is ready."""
    def back():
        doc = d.status()
        w = d.workers(doc)[DOWN] if doc else None
        return w if w and w["pid"] not in (0, dead) and \
            w.get("state") == "ready" else None
    return wait_until(back, bound, 0.05)


def freed_stage(d, port, keep, dead, restarts):
    """Descriptors are free again: a new worker serves CPU DOWN."""
    t0 = time.monotonic()
    w = respawned(d, dead)
    took = time.monotonic() - t0
    check(w, f"no worker ready on CPU {DOWN} {RESPAWN_BOUND} s after the "
          f"master's descriptors were freed; log:\n{d.log_tail()}")
    check(w["restarts"] > restarts, f"restarts {w['restarts']} after a "
          f"respawn (was {restarts})")
    first = wait_until(lambda: (ask(port, DOWN) or {}).get("pid") ==
                       w["pid"], HANDOFF_BOUND)
    check(first, f"the new worker {w['pid']} on CPU {DOWN} does not answer "
          f"that CPU's connections")
    tcp, udp = served_by(port, DOWN, w["pid"])
    check(tcp == ROUNDS and udp == ROUNDS, f"from CPU {DOWN}, the new worker "
          f"{w['pid']} answered {tcp} of {ROUNDS} connections and {udp} of "
          f"{ROUNDS} datagrams")
    kv = ask(port, DOWN, 5.0)
    check(kv and kv["cpu"] == DOWN and kv["incoming_cpu"] == DOWN,
          f"CPU {DOWN}'s connection served as {kv}")
    other, _ = served_by(port, 1 - DOWN, keep, 10)
    check(other == 10, f"worker {keep} answered {other} of 10 connections "
          f"from its own CPU")
    say(f"descriptors freed: worker {w['pid']} ready on CPU {DOWN} after "
        f"{took:.2f} s (restarts {w['restarts']}); {tcp}/{ROUNDS} connections and {udp}/{ROUNDS} "
        f"datagrams from CPU {DOWN} answered by it")
    return w


def scenario():
    port = free_port()
    d = Daemon([listener("info", "tcp", port, "info"),
                listener("info-udp", "udp", port, "info")]).start()
    try:
        d.wait_ready()
        ws = d.workers()
        keep, dead = ws[1 - DOWN]["pid"], ws[DOWN]["pid"]
        limits = resource.prlimit(d.pid, resource.RLIMIT_NOFILE)
        set_nofile(d.pid, (EXHAUSTED, limits[1]))
        try:
            exhausted_stage(d, port, keep, dead)
            no_room_stage(d)
        finally:
            set_nofile(d.pid, limits)
        freed_stage(d, port, keep, dead, ws[DOWN]["restarts"])
        crash_loop_stage(d, port, keep)
        r = d.reload("--wait")
        check(r.returncode == 0, f"reload after the respawn with fresh "
              f"sockets: exit {r.returncode}: {r.stderr.strip()}; log:\n"
              f"{d.log_tail()}")
        kv = ask(port, DOWN, 5.0)
        check(kv and kv["cpu"] == DOWN, f"after the reload CPU {DOWN}'s "
              f"connection was served as {kv}")
        say(f"reload with the fresh sockets: {r.stdout.strip()}")
    finally:
        d.kill()


def ip(*args):
    return subprocess.run(["ip"] + list(args), capture_output=True,
                          text=True, timeout=20)


def other_migrate_req():
    """The scenario again in a namespace of its own with the other
    net.ipv4.tcp_migrate_req, so both behaviours are checked."""
    value = 0 if migrate_req() == 1 else 1
    name = f"affinityd-e2e-{os.getpid()}"
    if ip("netns", "add", name).returncode != 0:
        say(f"tcp_migrate_req={value} not tried: cannot add a namespace")
        return
    try:
        ip("-n", name, "link", "set", "lo", "up")
        r = ip("netns", "exec", name, "sysctl", "-qw",
               f"net.ipv4.tcp_migrate_req={value}")
        check(r.returncode == 0, f"sysctl in the namespace: {r.stderr}")
        r = subprocess.run(["ip", "netns", "exec", name, sys.executable,
                            os.path.abspath(__file__), "--inner"],
                           capture_output=True, text=True, timeout=300)
        for line in r.stdout.splitlines():
            say(f"[netns, tcp_migrate_req={value}] {line}")
        check(r.returncode == 0, f"in a namespace with tcp_migrate_req="
              f"{value}: exit {r.returncode}; {r.stderr[-1500:]}")
    finally:
        ip("netns", "del", name)


def backoffs(d):
    """The back-offs of the respawns on CPU DOWN so far, in ms."""
    mark = f"respawning worker {DOWN} on CPU {DOWN} in "
    return [int(l.split(mark, 1)[1].split()[0]) for l in d.log().splitlines()
            if mark in l]


def crash_loop_stage(d, port, keep):
    """A worker that keeps dying soon after starting is respawned after a
    back-off that doubles.  Once it reaches a second, the master lets go
    of its sockets when queued connections move to the other workers
    (tcp_migrate_req = 1) and keeps them, to be served by the next
    process, when they would be reset (0)."""
    backoff = 0
    for _ in range(6):
        w = respawned(d, 0)
        check(w, f"no worker ready on CPU {DOWN}; log:\n{d.log_tail()}")
        closed = d.log().count("closing its sockets")
        before = len(backoffs(d))
        os.kill(w["pid"], signal.SIGKILL)
        t0 = time.monotonic()
        ms = wait_until(lambda: len(backoffs(d)) > before and backoffs(d),
                        HANDOFF_BOUND)
        check(ms, f"no respawn scheduled after a kill; log:\n{d.log_tail()}")
        backoff = ms[-1]
        if backoff > 1000:
            break
    check(backoff > 1000, f"the back-off did not grow over a second: "
          f"{backoff} ms")
    migrates = migrate_req() == 1

    def released():
        return d.log().count("closing its sockets") > closed
    if migrates:
        check(wait_until(released, HANDOFF_BOUND), f"tcp_migrate_req=1 and "
              f"a back-off of {backoff} ms, yet the master kept the dead "
              f"worker's sockets; log:\n{d.log_tail()}")
        kv = wait_until(lambda: ask(port, DOWN), HANDOFF_BOUND, 0.0)
        check(kv and kv["pid"] == keep, f"during a back-off of {backoff} "
              f"ms CPU {DOWN}'s connection was served as {kv}, not by "
              f"worker {keep}")
        what = f"answered by worker {keep} after " \
            f"{time.monotonic() - t0:.2f} s"
    else:
        kv = ask(port, DOWN, backoff / 1000 + 10.0)
        check(kv and kv["cpu"] == DOWN and kv["pid"] != w["pid"],
              f"a connection queued during a back-off of {backoff} ms was "
              f"served as {kv}, not by the next worker on CPU {DOWN}")
        what = f"queued and answered by the next worker {kv['pid']} after " \
            f"{time.monotonic() - t0:.2f} s"
    check(respawned(d, w["pid"]), f"no worker back on CPU {DOWN} after a "
          f"back-off of {backoff} ms; log:\n{d.log_tail()}")
    check(migrates or not released(), f"tcp_migrate_req=0, yet the master "
          f"closed the sockets of a worker that keeps dying; log:\n"
          f"{d.log_tail()}")
    say(f"crash loop: back-off {backoff} ms, sockets "
        f"{'closed' if released() else 'kept'} (tcp_migrate_req="
        f"{migrate_req()}); a connection from CPU {DOWN} {what}")


def main():
    require_cpus(*CPUS)
    scenario()
    if sys.argv[1:] != ["--inner"]:
        other_migrate_req()
    say("respawn: all checks passed")


if __name__ == "__main__":
    main()
