# SPDX-License-Identifier: BSD-2-Clause
"""Counters never go back: a daemon with workers on CPUs 0 and 1 serves N
TCP and N UDP echo exchanges, then is reloaded three times (the second
reload leaves CPU 0 without a worker, the third brings it back), and one
worker is killed with SIGKILL and respawned.  After every step each counter
of "status --json" (the totals, and each worker's, which are its CPU's) and
each counter of /metrics is at least what it was, and the totals count the
exchanges exactly: N more connections, N more datagrams, the payload bytes
in and out, one more restart.  CPU 0 keeps its counts while it has no
worker.  Also checked: affinityd_build_info and affinityd_start_time_seconds
against status, the Content-Type of /metrics, the "version" of the status,
topology and doctor documents, CPU sets as arrays beside their lists, the
udp_locality value and its reason, doctor's counts, and the daemon's
version in the status table."""
import sys
sys.dont_write_bytecode = True

import json
import os
import signal
import socket

from affinityd_test import (check, fail, free_port, listener, require_cpus,
                            run, say, srcdir, tcp_echo, wait_until)
from metrics import MetricsDaemon, by_cpu, scrape

CPUS = (0, 1)
N = 10
HOST = "127.0.0.1"
TOTAL_KEYS = ("accepted", "datagrams", "bytes_received", "bytes_sent",
              "connections_local", "connections_remote", "errors",
              "cpu_mismatches", "idle_timeouts", "header_timeouts",
              "evicted", "restarts")


def udp_once(port, payload):
    """One datagram and its echo, never sent twice, so it counts once."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10.0)
        s.sendto(payload, (HOST, port))
        try:
            return s.recvfrom(65536)[0]
        except socket.timeout:
            fail(f"no UDP echo from port {port} within 10 s")


def exchanges(port, n, tag):
    """N TCP and N UDP echoes; the payload bytes each way."""
    size = 0
    for i in range(n):
        payload = f"{tag} {i} ".encode() * (i + 1) + b"\n"
        check(tcp_echo(HOST, port, payload) == payload, "TCP echo returned "
              "something else")
        check(udp_once(port, payload) == payload, "UDP echo returned "
              "something else")
        size += 2 * len(payload)
    return size


def snapshot(d):
    """Status and metrics, once two readings agree (the workers are
    quiet and every worker is ready)."""
    last = {}

    def settled():
        a = d.status()
        fams = scrape(d.metrics_port)
        b = d.status()
        last.update(doc=b)
        if a is None or b is None or not d.all_ready(b) or \
           a["totals"] != b["totals"]:
            return None
        cpus = by_cpu(fams)
        if any(b["totals"][k] != sum(c[k] for c in cpus.values())
               for k in TOTAL_KEYS):
            return None
        return {"doc": b, "cpus": cpus,
                "remaps": fams["affinityd_remaps_total"]["samples"][()]}
    snap = wait_until(settled, 20.0, 0.2)
    if not snap:
        fail(f"status and metrics did not settle: {last.get('doc')}")
    return snap


def check_not_less(before, after, what):
    """Every counter of status and of /metrics is at least what it was."""
    tb, ta = before["doc"]["totals"], after["doc"]["totals"]
    for k in TOTAL_KEYS:
        check(ta[k] >= tb[k], f"{what}: status total {k} went back from "
              f"{tb[k]} to {ta[k]}")
    for cpu, counts in before["cpus"].items():
        check(cpu in after["cpus"], f"{what}: /metrics lost the counters "
              f"of CPU {cpu}")
        for k, v in counts.items():
            check(after["cpus"][cpu][k] >= v, f"{what}: /metrics {k} of "
                  f"CPU {cpu} went back from {v} to {after['cpus'][cpu][k]}")
    wb = {w["cpu"]: w for w in before["doc"]["workers"]}
    for w in after["doc"]["workers"]:
        if w["cpu"] in wb:
            for k in TOTAL_KEYS:
                check(w[k] >= wb[w["cpu"]][k], f"{what}: status {k} of the "
                      f"worker on CPU {w['cpu']} went back from "
                      f"{wb[w['cpu']][k]} to {w[k]}")
    check(after["remaps"] >= before["remaps"], f"{what}: remaps went back")


def check_exact(base, now, served, restarts, what):
    """The totals grew by what the clients did, exactly."""
    tb, tn = base["doc"]["totals"], now["doc"]["totals"]
    want = {"accepted": served["n"], "datagrams": served["n"],
            "bytes_received": served["bytes"], "bytes_sent": served["bytes"],
            "restarts": restarts, "errors": 0}
    for k, v in want.items():
        check(tn[k] - tb[k] == v, f"{what}: total {k} grew by "
              f"{tn[k] - tb[k]}, not {v} ({tb[k]} -> {tn[k]})")
    local = tn["connections_local"] - tb["connections_local"]
    remote = tn["connections_remote"] - tb["connections_remote"]
    check(local + remote == served["n"], f"{what}: {local} local and "
          f"{remote} remote connections of {served['n']} accepted")


def reload_to(d, plan):
    d.plan = plan
    d.write_config(d.listeners)
    gen = d.status()["generation"]
    r = d.reload("--wait")
    check(r.returncode == 0, f"reload to workers \"{plan}\": exit "
          f"{r.returncode}: {r.stderr.strip()}")
    want = sorted(int(c) for c in plan.split("-"))
    want = list(range(want[0], want[-1] + 1))
    doc = wait_until(lambda: (lambda doc: doc if doc and d.all_ready(doc)
                              and doc["generation"] > gen and
                              doc["draining_workers"] == 0 and
                              sorted(w["cpu"] for w in doc["workers"]) ==
                              want else None)(d.status()), 20.0, 0.1)
    check(doc, f"after the reload to \"{plan}\": {d.status()}")


def kill_worker(d, cpu):
    victim = d.workers()[cpu]
    os.kill(victim["pid"], signal.SIGKILL)
    back = wait_until(lambda: (lambda w: w.get(cpu, {}).get("pid", 0) not in
                               (0, victim["pid"]) and
                               w[cpu].get("state") == "ready")(d.workers()),
                      20.0, 0.1)
    check(back, f"the worker on CPU {cpu} did not come back: {d.workers()}")


def check_documents(d, snap):
    """The layout versions, the arrays, the daemon's version."""
    doc = snap["doc"]
    check(doc.get("version") == 1, f"status version {doc.get('version')}")
    check(doc.get("udp_locality") == "unobservable" and
          doc.get("udp_locality_reason", "").startswith("not measured"),
          f"udp_locality {doc.get('udp_locality')!r}: "
          f"{doc.get('udp_locality_reason')!r}")
    check(isinstance(doc.get("fallback_cpus_list"), list),
          f"fallback_cpus_list {doc.get('fallback_cpus_list')!r}")
    r = run(["status", "-s", d.sock])
    check(r.returncode == 0 and f"affinityd {doc['daemon_version']}, "
          f"generation" in r.stdout, f"the status table does not show the "
          f"daemon's version {doc['daemon_version']}:\n{r.stdout}")
    fams = scrape(d.metrics_port)
    (lab, v), = fams["affinityd_build_info"]["samples"].items()
    check(lab == (("version", doc["daemon_version"]),) and v == 1,
          f"affinityd_build_info {lab} {v}")
    start = fams["affinityd_start_time_seconds"]["samples"][()]
    check(abs(start - doc["start_time_seconds"]) < 0.01, f"start time "
          f"{start} vs status {doc['start_time_seconds']}")

    root = os.path.join(srcdir(), "tests", "fixtures", "sysroot", "mlx5")
    r = run(["topology", "--json", "--sysroot", root])
    check(r.returncode == 0, f"topology --json: {r.returncode} {r.stderr}")
    topo = json.loads(r.stdout)
    check(topo.get("version") == 1, f"topology version "
          f"{topo.get('version')}")
    for i in topo["interfaces"]:
        for q in i["queues"]:
            for key in ("irq_cpus", "rps_cpus"):
                check(expand(q[key]) == q[key + "_list"], f"{i['name']} "
                      f"queue {q['queue']}: {key} {q[key]!r} but "
                      f"{key}_list {q[key + '_list']!r}")
    check(expand(topo["allowed_cpus"]) == topo["allowed_cpus_list"],
          f"allowed_cpus {topo['allowed_cpus']!r} vs "
          f"{topo['allowed_cpus_list']!r}")

    r = run(["doctor", "--json", "--sysroot", root])
    rep = json.loads(r.stdout)
    counts = rep.get("counts", {})
    check(rep.get("version") == 1, f"doctor version {rep.get('version')}")
    for word in ("ok", "warn", "fail"):
        n = sum(f["status"].lower() == word for f in rep["findings"])
        check(counts.get(word) == n, f"doctor counts {counts}: {n} "
              f"findings are {word}")
    check(counts["fail"] == rep["failures"], f"doctor counts {counts} vs "
          f"failures {rep['failures']}")


def expand(text):
    """The CPUs of a list string; None for None."""
    if text is None:
        return None
    cpus = []
    for item in filter(None, text.split(",")):
        lo, _, hi = item.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def main():
    require_cpus(*CPUS)
    port, mport = free_port(), free_port()
    d = MetricsDaemon([listener("echo", "tcp", port, "echo"),
                       listener("echo-udp", "udp", port, "echo")],
                      f"{HOST}:{mport}", workers="0-1").start().wait_ready()
    d.metrics_port = mport
    try:
        base = snapshot(d)
        served = {"n": 0, "bytes": 0}
        restarts = 0

        def step(what, action, n=N):
            nonlocal last
            if action is not None:
                action()
            served["bytes"] += exchanges(port, n, what)
            served["n"] += n
            now = snapshot(d)
            check_not_less(last, now, what)
            check_exact(base, now, served, restarts, what)
            say(f"  {what}: totals {now['doc']['totals']}")
            last = now

        last = base
        step("first exchanges", None)
        step("reload 1", lambda: reload_to(d, "0-1"))
        # CPU 0 keeps its counts while no worker serves it.
        cpu0 = last["cpus"][0]
        step("reload 2, workers 1", lambda: reload_to(d, "1"))
        check(last["cpus"].get(0) == cpu0, f"CPU 0 without a worker: "
              f"{last['cpus'].get(0)}, was {cpu0}")
        step("reload 3, workers 0-1", lambda: reload_to(d, "0-1"))
        restarts += 1
        step("respawn", lambda: kill_worker(d, 1))
        check_documents(d, last)
        rc = d.stop()
        check(rc == 0, f"SIGTERM: exit status {rc}; log:\n{d.log_tail()}")
    finally:
        d.kill()
    say("counters: all checks passed")


if __name__ == "__main__":
    main()
