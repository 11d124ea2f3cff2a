# SPDX-License-Identifier: BSD-2-Clause
"""systemd notifications: a datagram socket stands in for systemd's
NOTIFY_SOCKET and receives, in order, MAINPID, READY=1 with STATUS,
RELOADING=1 with a MONOTONIC_USEC taken after the reload was asked for and
READY=1 again (after SIGHUP, after "reload --wait", and after a reload of
an invalid file that changes nothing), then STOPPING=1 on SIGTERM.  Every
datagram comes from the master.  With WATCHDOG_USEC set, WATCHDOG=1 keeps
coming at least twice per interval, also while a worker stopped with
SIGSTOP is found and replaced."""
import sys
sys.dont_write_bytecode = True

import os
import signal
import socket
import struct
import threading
import time

from affinityd_test import (Daemon, alive, binary, check, fail, free_port,
                            listener, require_cpus, say, skip, tcp_echo,
                            tempdir, wait_until)

HOST = "127.0.0.1"
CPUS = (0, 1)
WATCHDOG_USEC = 2000000		# the master pings every second
PING_GAP = 1.5			# seconds between pings, at most
SHORT_WATCHDOG_USEC = 500000	# the master pings every 125 ms
SHORT_PING_GAP = 0.45
STALE_BOUND = 10.0		# a stopped worker is replaced well within this


def monotonic_usec():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


class Notifications(threading.Thread):
    """Receives the datagrams sent to a NOTIFY_SOCKET at PATH: each is kept
    as (monotonic seconds when received, sender pid, {KEY: VALUE})."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        # The kernel then attaches the sender's credentials to each one.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.1)
        self.msgs, self.bad = [], []
        self.cond = threading.Condition()
        self.halt = threading.Event()

    def run(self):
        ucred = struct.calcsize("iII")
        while not self.halt.is_set():
            try:
                data, anc, _, _ = self.sock.recvmsg(
                    4096, socket.CMSG_SPACE(ucred))
            except socket.timeout:
                continue
            now = time.monotonic()
            pid = None
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and \
                   kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", cdata[:ucred])[0]
            kv = {}
            for line in data.decode("utf-8", "replace").split("\n"):
                if not line:
                    continue
                if "=" not in line:
                    self.bad.append(data)
                    continue
                k, v = line.split("=", 1)
                kv[k] = v
            with self.cond:
                self.msgs.append((now, pid, kv))
                self.cond.notify_all()

    def finish(self):
        self.halt.set()
        self.join(5.0)
        self.sock.close()

    def count(self):
        with self.cond:
            return len(self.msgs)

    def wait_for(self, key, start, timeout, value=None):
        """The index of the first message from START on that holds KEY
        (equal to VALUE when given), or None after TIMEOUT seconds."""
        end = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.msgs):
                    kv = self.msgs[i][2]
                    if key in kv and (value is None or kv[key] == value):
                        return i
                    i += 1
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def events(self):
        """The messages other than watchdog pings, as (index, kv)."""
        with self.cond:
            return [(i, m[2]) for i, m in enumerate(self.msgs)
                    if set(m[2]) != {"WATCHDOG"}]

    def pings(self, start=0, end=None):
        """Receive times of the WATCHDOG=1 pings among messages
        START..END."""
        with self.cond:
            return [m[0] for m in self.msgs[start:end]
                    if m[2].get("WATCHDOG") == "1"]


def max_gap(times, since, until):
    """The longest time without a ping between SINCE and UNTIL."""
    marks = [since] + [t for t in times if since < t < until] + [until]
    return max(b - a for a, b in zip(marks, marks[1:]))


def pids(d):
    doc = d.status()
    check(doc is not None, f"status does not answer; log:\n{d.log_tail()}")
    return doc["generation"], {w["cpu"]: w["pid"] for w in doc["workers"]}


def expect_reload(d, n, start, t_asked, how, ok=True):
    """After a reload asked for at T_ASKED (monotonic usec): RELOADING=1
    with a MONOTONIC_USEC between then and its arrival, then READY=1.
    Returns the index of that READY."""
    i = n.wait_for("RELOADING", start, 10.0)
    check(i is not None, f"{how}: no RELOADING=1 within 10 s; log:\n"
          f"{d.log_tail()}")
    recv, _, kv = n.msgs[i]
    check(kv["RELOADING"] == "1", f"{how}: RELOADING={kv['RELOADING']}")
    check("MONOTONIC_USEC" in kv, f"{how}: RELOADING=1 without "
          f"MONOTONIC_USEC: {kv}")
    try:
        usec = int(kv["MONOTONIC_USEC"])
    except ValueError:
        fail(f"{how}: MONOTONIC_USEC is not a number: {kv}")
    recv_usec = int(recv * 1e6) + 1000
    check(t_asked <= usec <= recv_usec, f"{how}: MONOTONIC_USEC={usec} is "
          f"not between the request ({t_asked}) and the datagram's arrival "
          f"({recv_usec}): not CLOCK_MONOTONIC now")
    r = n.wait_for("READY", i + 1, 30.0)
    check(r is not None, f"{how}: no READY=1 after RELOADING=1 within 30 s;"
          f" log:\n{d.log_tail()}")
    statuses = [n.msgs[k][2]["STATUS"] for k in range(i, r + 1)
                if "STATUS" in n.msgs[k][2]]
    check(statuses, f"{how}: no STATUS between RELOADING=1 and READY=1")
    failed = [s for s in statuses if "fail" in s]
    if ok:
        check(not failed, f"{how}: STATUS says {failed}")
    else:
        check(failed, f"{how}: no STATUS says the reload failed: "
              f"{statuses}")
    say(f"{how}: RELOADING=1 MONOTONIC_USEC {usec - t_asked} us after the "
        f"request, READY=1 {(n.msgs[r][0] - recv) * 1000:.1f} ms later; "
        f"STATUS={statuses[-1]!r}")
    return r


def test_reloads(d, n, ready):
    gen, before = pids(d)

    # SIGHUP, as "systemctl reload" sends for Type=notify-reload.
    t = monotonic_usec()
    os.kill(d.pid, signal.SIGHUP)
    r = expect_reload(d, n, ready + 1, t, "SIGHUP")
    # READY=1 comes once the new generation serves.
    g, after = pids(d)
    check(g == gen + 1, f"SIGHUP: generation {g}, not {gen + 1}")
    check(not set(after.values()) & set(before.values()), f"SIGHUP: worker "
          f"pids {after} share some with the ones before {before}")

    # "reload --wait", as ExecReload= would run it.
    t = monotonic_usec()
    res = d.reload("--wait")
    check(res.returncode == 0, f"reload --wait exited {res.returncode}: "
          f"{res.stderr.strip()}")
    r = expect_reload(d, n, r + 1, t, "reload --wait")

    # An invalid file: the reload fails, READY=1 all the same.
    good = open(d.conf).read()
    d.write_config(d.listeners, text=good.replace(
        'steering = "incoming-cpu"', 'steering = "sideways"'))
    g, before = pids(d)
    t = monotonic_usec()
    os.kill(d.pid, signal.SIGHUP)
    r = expect_reload(d, n, r + 1, t, "SIGHUP with an invalid file", ok=False)
    d.write_config(d.listeners, text=good)
    g2, after = pids(d)
    check((g2, after) == (g, before), f"a failed reload changed generation "
          f"{g} -> {g2} or workers {before} -> {after}")
    check(tcp_echo(HOST, d.listeners[0]["port"], b"still\n") == b"still\n",
          "echo does not answer after a failed reload")
    return r


def test_stopped_worker(d, n):
    """SIGSTOP a worker: the master keeps pinging while it notices the
    silence and replaces the worker."""
    g, before = pids(d)
    cpu = 1
    old = before[cpu]
    start = n.count()
    t0 = time.monotonic()
    os.kill(old, signal.SIGSTOP)
    try:
        def replaced():
            doc = d.status()
            for w in (doc or {}).get("workers", []):
                if w["cpu"] == cpu and w["pid"] not in (0, old) and \
                   w.get("state", "ready") == "ready":
                    return w
            return None
        w = wait_until(replaced, STALE_BOUND, 0.1)
        t1 = time.monotonic()
        check(w is not None, f"a worker stopped with SIGSTOP was not replaced "
              f"within {STALE_BOUND} s; log:\n{d.log_tail()}")
    finally:
        if alive(old):
            os.kill(old, signal.SIGKILL)
    check(wait_until(lambda: not alive(old), 5.0), f"the stopped worker {old} "
          f"still exists after its replacement")
    pings = n.pings(start)
    gap = max_gap(pings, t0, t1)
    check(gap <= PING_GAP, f"WATCHDOG=1 pings stopped for {gap:.2f} s while a "
          f"stopped worker was replaced (WATCHDOG_USEC={WATCHDOG_USEC})")
    say(f"SIGSTOP: worker {old} on CPU {cpu} replaced by {w['pid']} after "
        f"{t1 - t0:.2f} s; {len(pings)} WATCHDOG=1 pings meanwhile, longest "
        f"gap {gap:.2f} s")


def check_order(n):
    """MAINPID, READY, then (RELOADING, READY) pairs, then STOPPING."""
    seq = []
    for _, kv in n.events():
        for k in ("MAINPID", "READY", "RELOADING", "STOPPING"):
            if k in kv:
                seq.append(k)
    want = ["MAINPID", "READY"] + ["RELOADING", "READY"] * 3 + ["STOPPING"]
    check(seq == want, f"notifications in the order {seq}, not {want}")
    say(f"order: {' '.join(seq)}")


def run_main(path):
    require_cpus(*CPUS)
    port = free_port()
    n = Notifications(path)
    n.start()
    d = Daemon([listener("echo", "tcp", port, "echo"),
                listener("echo-udp", "udp", port, "echo")])
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": str(WATCHDOG_USEC),
           "WATCHDOG_PID": None}
    try:
        d.start(env=env).wait_ready()
        ready = n.wait_for("READY", 0, 5.0)
        check(ready is not None, "serving, but no READY=1 within 5 s")
        kv = n.msgs[ready][2]
        check(kv["READY"] == "1", f"READY={kv['READY']}")
        check(kv.get("STATUS"), f"READY=1 without a STATUS: {kv}")
        main = n.wait_for("MAINPID", 0, 0.0)
        check(main is not None and main < ready, "no MAINPID before READY=1")
        check(n.msgs[main][2]["MAINPID"] == str(d.pid), f"MAINPID="
              f"{n.msgs[main][2]['MAINPID']}, the daemon's pid is {d.pid}")
        say(f"start: MAINPID={d.pid}, READY=1 STATUS="
            f"{kv['STATUS']!r}")

        test_reloads(d, n, ready)
        test_stopped_worker(d, n)

        first = n.wait_for("WATCHDOG", 0, 0.0)
        check(first is not None, "no WATCHDOG=1 ping at all")
        before = n.count()
        t0 = time.monotonic()
        rc = d.stop()
        check(rc == 0, f"SIGTERM: exit status {rc}; log:\n{d.log_tail()}")
        stop = n.wait_for("STOPPING", before, 2.0)
        check(stop is not None, "no STOPPING=1 after SIGTERM")
        check(n.msgs[stop][0] - t0 < 2.0, "STOPPING=1 came late")
        # From READY=1 on, a service manager counts the interval.
        t_ready, t_stop = n.msgs[ready][0], n.msgs[stop][0]
        gap = max_gap(n.pings(), t_ready, t_stop)
        check(gap <= PING_GAP, f"WATCHDOG=1 pings stopped for {gap:.2f} s "
              f"while running (WATCHDOG_USEC={WATCHDOG_USEC})")
        say(f"watchdog: {len(n.pings())} pings, longest gap {gap:.2f} s over "
            f"{t_stop - t_ready:.1f} s from READY=1 to STOPPING=1 through "
            f"reloads and a replaced worker")
    finally:
        d.kill()
        n.finish()
    check(not n.bad, f"datagrams that are not KEY=VALUE lines: {n.bad[:3]}")
    senders = {pid for _, pid, _ in n.msgs}
    check(senders == {d.pid}, f"notifications sent by pids "
          f"{sorted(senders, key=str)}, not only by the master {d.pid}")
    check_order(n)


def run_short_watchdog(path):
    """WATCHDOG_USEC of 500 ms: the master pings every 125 ms."""
    port = free_port()
    n = Notifications(path)
    n.start()
    d = Daemon([listener("echo", "tcp", port, "echo")])
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": str(SHORT_WATCHDOG_USEC),
           "WATCHDOG_PID": None}
    try:
        d.start(env=env).wait_ready()
        first = n.wait_for("WATCHDOG", 0, 2.0)
        check(first is not None, f"no WATCHDOG=1 within 2 s with "
              f"WATCHDOG_USEC={SHORT_WATCHDOG_USEC}")
        t0 = n.msgs[first][0]
        wait_until(lambda: time.monotonic() > t0 + 2.0, 5.0)
        t1 = time.monotonic()
        pings = n.pings()
        gap = max_gap(pings, t0, t1)
        check(gap <= SHORT_PING_GAP, f"WATCHDOG_USEC={SHORT_WATCHDOG_USEC}: "
              f"pings {gap:.2f} s apart, more than half the interval")
        say(f"watchdog {SHORT_WATCHDOG_USEC} us: {len(pings)} pings in "
            f"{t1 - t0:.1f} s, longest gap {gap:.2f} s")
        check(d.stop() == 0, f"SIGTERM: exit status {d.proc.returncode}")
    finally:
        d.kill()
        n.finish()


def require_systemd():
    """Skips for a daemon built --without-systemd: it has no libsystemd to
    send notifications with."""
    with open(binary(), "rb") as f:
        if b"libsystemd.so" not in f.read():
            skip(f"{binary()} is built without systemd support")


def main():
    require_systemd()
    tmp = tempdir()
    run_main(os.path.join(tmp, "notify.sock"))
    run_short_watchdog(os.path.join(tmp, "notify-short.sock"))
    say("notify: all checks passed")


if __name__ == "__main__":
    main()
