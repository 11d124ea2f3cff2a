# SPDX-License-Identifier: BSD-2-Clause
"""Live re-mapping: the daemon follows the machine without a reload.

RPS: the daemon serves in a network namespace behind a veth whose receive
queue has rps_cpus on CPU 1, with topology.rescan_interval = 1 s and one
worker (on CPU 1).  A client pinned to CPU 0 outside the namespace keeps
making TCP and UDP info exchanges while the RPS mask is rewritten to CPU 0
and back: within one rescan (plus a margin for the exchange in flight) the
flows are served on the new CPU, with incoming_cpu on it, by the same
worker process, re-pinned; no exchange fails; the re-map is logged and
counted in status.  With a rescan interval of a minute, an address added to
the veth (an rtnetlink event) makes the daemon follow a moved RPS mask at
once.

cpuset: the daemon runs with workers = "cpus" in a cpuset cgroup of its
own holding CPUs 0-1; clients pinned to CPU 0 and CPU 1 keep exchanging
over loopback while CPU 1 is taken out of the cpuset and put back: the
worker on CPU 1 drains and a new one starts when it returns, the worker
on CPU 0 is untouched, and no exchange fails; with steering "auto" and
with "cbpf" (whose program must follow the group's changing order)."""
import sys
sys.dont_write_bytecode = True

import os
import shutil
import socket
import threading
import time

from affinityd_test import (Daemon, check, fail, free_port, listener,
                            parse_info, recv_line, require_cpus, say, skip,
                            wait_until)
from steering_netns import Netns, pick_net, ip

RESCAN = 1.0		# topology.rescan_interval
MARGIN = 1.5		# an exchange in flight, the worker's re-pin
IO_TIMEOUT = 5.0
CPUSET_ROOT = "/sys/fs/cgroup/cpuset"


class Load:
    """Client threads, each pinned to a CPU, doing TCP and UDP info
    exchanges until stopped; each exchange is kept as (protocol, client
    CPU, start, end, info reply or None, error or None)."""

    def __init__(self, host, port, cpus):
        self.host, self.port, self.cpus = host, port, cpus
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.log = []
        self.threads = [threading.Thread(target=self.client, args=(p, c),
                                         daemon=True)
                        for c in cpus for p in ("tcp", "udp")]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join(IO_TIMEOUT * 3)
        check(not any(t.is_alive() for t in self.threads),
              "a client thread hangs")

    def one(self, proto):
        try:
            if proto == "tcp":
                with socket.create_connection((self.host, self.port),
                                              timeout=IO_TIMEOUT) as s:
                    return parse_info(recv_line(s, IO_TIMEOUT)), None
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(IO_TIMEOUT)
                s.sendto(b"where\n", (self.host, self.port))
                return parse_info(s.recvfrom(4096)[0], tcp=False), None
        except OSError as e:
            return None, f"{proto}: {e}"

    def client(self, proto, cpu):
        os.sched_setaffinity(0, {cpu})
        while not self.halt.is_set():
            t0 = time.monotonic()
            kv, err = self.one(proto)
            with self.lock:
                self.log.append((proto, cpu, t0, time.monotonic(), kv, err))

    def since(self, t):
        with self.lock:
            return [x for x in self.log if x[2] >= t]

    def failures(self):
        with self.lock:
            return [x for x in self.log if x[5] is not None]

    def wait(self, n, since):
        got = wait_until(lambda: len([x for x in self.since(since)
                                      if x[5] is None]) >= n, 15.0)
        check(got, f"fewer than {n} exchanges in 15 s; failures: "
              f"{self.failures()[-5:]}")


def status(d):
    doc = d.status()
    check(doc is not None, f"status does not answer; log:\n{d.log_tail()}")
    return doc


def write_rps(ns, cpu):
    rps = f"/sys/class/net/{ns.inside}/queues/rx-0/rps_cpus"
    ip("netns", "exec", ns.name, "sh", "-c",
       f"echo {1 << cpu:x} > {rps}")


def follow_rps(d, ns, load, cpu, pid):
    """Moves RPS to CPU and checks that the flows follow within one
    rescan, served by the same worker process re-pinned there."""
    remaps = status(d).get("remaps", 0)
    t0 = time.monotonic()
    write_rps(ns, cpu)
    moved = wait_until(lambda: sorted(d.workers()) == [cpu],
                       RESCAN + MARGIN + 2.0)
    took = time.monotonic() - t0
    check(moved, f"RPS on CPU {cpu}: workers still on CPUs "
          f"{sorted(d.workers())} after {took:.1f} s; log:\n{d.log_tail()}")
    w = d.workers()[cpu]
    check(w["pid"] == pid, f"the worker was replaced (pid {w['pid']}, was "
          f"{pid}), not re-pinned")
    doc = status(d)
    check(doc.get("remaps", 0) > remaps, f"status remaps "
          f"{doc.get('remaps')} did not grow (was {remaps})")
    settle = t0 + RESCAN + MARGIN
    load.wait(40, settle)
    after = [x for x in load.since(settle) if x[5] is None]
    wrong = [x for x in after if x[4]["cpu"] != cpu or
             (x[0] == "tcp" and x[4]["incoming_cpu"] != cpu)]
    say(f"RPS -> CPU {cpu}: worker re-pinned after {took:.2f} s; "
        f"{len(after)} exchanges since one rescan later, {len(wrong)} "
        f"not on CPU {cpu}")
    check(not wrong, f"{len(wrong)} of {len(after)} exchanges after one "
          f"rescan not served on CPU {cpu}: {wrong[:3]}")


def test_rps():
    if shutil.which("ip") is None:
        skip("the ip command (iproute2) is not installed")
    ns = Netns()
    try:
        ns.open(pick_net())
        port = 7778
        d = Daemon([listener("info", "tcp", port, "info", ns.addr),
                    listener("info-udp", "udp", port, "info", ns.addr)],
                   workers="rx-queues", netns=ns.name, steering="auto",
                   rescan_interval=RESCAN).start().wait_ready()
        ws = d.workers()
        check(sorted(ws) == [1], f"RPS on CPU 1: workers on {sorted(ws)}")
        pid = ws[1]["pid"]
        load = Load(ns.addr, port, (0,)).start()
        load.wait(20, 0)
        follow_rps(d, ns, load, 0, pid)
        follow_rps(d, ns, load, 1, pid)
        load.stop()
        fails = load.failures()
        say(f"RPS: {len(load.log)} exchanges, {len(fails)} failed")
        check(not fails, f"{len(fails)} exchanges failed while re-mapping: "
              f"{fails[:5]}")
        check("re-mapped" in d.log(), f"no re-map in the log:\n"
              f"{d.log_tail()}")
        rc = d.stop()
        check(rc == 0, f"SIGTERM: exit {rc}; log:\n{d.log_tail()}")
        d.kill()
    finally:
        ns.close()


def test_netlink():
    """An rtnetlink event rescans at once: the RPS mask moves, nothing
    tells the daemon, then an address is added."""
    ns = Netns()
    try:
        ns.open(pick_net())
        port = 7778
        d = Daemon([listener("info", "tcp", port, "info", ns.addr)],
                   workers="rx-queues", netns=ns.name,
                   rescan_interval=60.0).start().wait_ready()
        check(sorted(d.workers()) == [1], f"RPS on CPU 1: workers on "
              f"{sorted(d.workers())}")
        write_rps(ns, 0)
        t0 = time.monotonic()
        ip("-n", ns.name, "addr", "add", f"{ns.addr[:-1]}3/32", "dev",
           ns.inside)
        moved = wait_until(lambda: sorted(d.workers()) == [0], 5.0)
        check(moved, f"an address added: workers still on "
              f"{sorted(d.workers())} after 5 s; log:\n{d.log_tail()}")
        say(f"netlink: address added, worker on CPU 0 after "
            f"{time.monotonic() - t0:.2f} s")
        check("re-mapped (address)" in d.log(), f"the re-map does not say "
              f"the address prompted it:\n{d.log_tail()}")
        rc = d.stop()
        check(rc == 0, f"SIGTERM: exit {rc}; log:\n{d.log_tail()}")
        d.kill()
    finally:
        ns.close()


class Cpuset:
    """A cpuset cgroup (v1) of its own, removed by close()."""

    def __init__(self):
        self.path = os.path.join(CPUSET_ROOT, f"affinityd-e2e-{os.getpid()}")

    def open(self, cpus):
        if not os.path.isfile(os.path.join(CPUSET_ROOT, "cpuset.cpus")):
            skip(f"no cgroup v1 cpuset hierarchy at {CPUSET_ROOT}")
        try:
            os.mkdir(self.path)
            with open(os.path.join(CPUSET_ROOT, "cpuset.mems")) as f:
                mems = f.read().strip()
            self.write("cpuset.mems", mems)
            self.write("cpuset.cpus", cpus)
        except OSError as e:
            skip(f"cannot make a cpuset cgroup at {self.path}: {e}")
        return self

    def write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def close(self):
        try:
            os.rmdir(self.path)
        except OSError:
            pass


def test_cpuset(steering):
    cs = Cpuset().open("0-1")
    port = free_port()
    d = Daemon([listener("info", "tcp", port, "info"),
                listener("info-udp", "udp", port, "info")],
               workers="cpus", steering=steering, rescan_interval=RESCAN)
    d.prefix = ["sh", "-c", f'echo $$ > {cs.path}/tasks && exec "$@"', "sh"]
    try:
        d.start().wait_ready()
        ws = d.workers()
        check(sorted(ws) == [0, 1], f"workers on CPUs {sorted(ws)}")
        keep = ws[0]["pid"]
        load = Load("127.0.0.1", port, (0, 1)).start()
        load.wait(40, 0)
        t0 = time.monotonic()
        cs.write("cpuset.cpus", "0")
        gone = wait_until(lambda: sorted(d.workers()) == [0],
                          RESCAN + MARGIN + 2.0)
        check(gone, f"CPU 1 left the cpuset: workers still on "
              f"{sorted(d.workers())}; log:\n{d.log_tail()}")
        say(f"{steering}: cpuset 0: worker on CPU 1 drained after "
            f"{time.monotonic() - t0:.2f} s")
        load.wait(40, time.monotonic())
        t0 = time.monotonic()
        cs.write("cpuset.cpus", "0-1")
        back = wait_until(lambda: sorted(d.workers()) == [0, 1] and
                          d.all_ready(d.status()), RESCAN + MARGIN + 5.0)
        check(back, f"CPU 1 back in the cpuset: workers on "
              f"{sorted(d.workers())}; log:\n{d.log_tail()}")
        say(f"{steering}: cpuset 0-1: new worker on CPU 1 after "
            f"{time.monotonic() - t0:.2f} s")
        check(d.workers()[0]["pid"] == keep, "the worker on CPU 0 was "
              "replaced; only CPU 1's should change")
        settle = time.monotonic() + MARGIN
        load.wait(60, settle)
        new = d.workers()[1]["pid"]
        from1 = [x for x in load.since(settle) if x[1] == 1 and x[5] is None]
        local = sum(1 for x in from1 if x[4]["pid"] == new)
        say(f"{steering}: cpuset: from CPU 1 after the return, "
            f"{local}/{len(from1)} "
            f"served by the new worker on CPU 1")
        check(from1 and local >= 0.99 * len(from1), f"only {local} of "
              f"{len(from1)} exchanges from CPU 1 reached its new worker")
        load.stop()
        fails = load.failures()
        say(f"{steering}: cpuset: {len(load.log)} exchanges, {len(fails)} "
            f"failed")
        check(not fails, f"{len(fails)} exchanges failed while re-mapping: "
              f"{fails[:5]}")
        rc = d.stop()
        check(rc == 0, f"SIGTERM: exit {rc}; log:\n{d.log_tail()}")
    finally:
        d.kill()
        cs.close()


def main():
    if os.geteuid() != 0:
        skip("needs root for a network namespace and a cpuset cgroup")
    require_cpus(0, 1)
    test_rps()
    test_netlink()
    for steering in ("auto", "cbpf"):
        test_cpuset(steering)
    say("remap: all checks passed")


if __name__ == "__main__":
    main()
