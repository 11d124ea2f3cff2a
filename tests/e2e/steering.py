# SPDX-License-Identifier: BSD-2-Clause
"""Steering on loopback: two workers on CPUs 0 and 1 serving info and echo
over TCP and UDP.  Clients pinned to CPU 0 and to CPU 1 make connections
and send datagrams; with steering "incoming-cpu" and "cbpf" at least 99%
must land on the worker of the client's CPU, and with "none" (plain
SO_REUSEPORT hashing) well under 90% do, so the test can tell them apart.
"cbpf" must stay at 99% after a worker was killed and respawned and after
reloads that take a worker away and bring it back (the group's socket
order changes).  "auto" must choose a method that steers and say why.
"status" must then show the counts and the locality the clients
produced."""
import sys
sys.dont_write_bytecode = True

import os
import platform
import signal

from affinityd_test import (Daemon, check, fail, free_port, listener, pinned,
                            require_cpus, run, say, tcp_echo, tcp_info,
                            udp_echo, udp_info, wait_until)

CPUS = (0, 1)
N = 200			# connections and datagrams from each CPU
HOST = "127.0.0.1"


def start(steering):
    info, echo = free_port(), free_port()
    d = Daemon([listener("info", "tcp", info, "info"),
                listener("info-udp", "udp", info, "info"),
                listener("echo", "tcp", echo, "echo"),
                listener("echo-udp", "udp", echo, "echo")],
               workers="0-1", steering=steering).start().wait_ready()
    d.info_port, d.echo_port = info, echo
    return d


def check_echo(d):
    """Echo on TCP (one small and one large payload, from each CPU) and
    on UDP."""
    for cpu in CPUS:
        with pinned(cpu):
            for payload in (b"hello\n", os.urandom(256 * 1024)):
                got = tcp_echo(HOST, d.echo_port, payload)
                check(got == payload, f"TCP echo from CPU {cpu} returned "
                      f"{len(got)} bytes, not the {len(payload)} sent")
            for payload in (b"hello\n", os.urandom(1400)):
                got = udp_echo(HOST, d.echo_port, payload)
                check(got == payload, f"UDP echo from CPU {cpu} returned "
                      f"{got[:40] if got else got!r}, not what was sent")


def measure(d, workers, cpus=CPUS):
    """N connections and N datagrams from each of CPUS.  Returns, per
    protocol, how many landed on the worker of the client's CPU, and per
    worker pid how many each worker served."""
    local = {"tcp": 0, "udp": 0}
    served = {"tcp": {}, "udp": {}}
    incoming_match = 0
    pids = {w["pid"]: w for w in workers.values()}
    for cpu in cpus:
        mine = workers[cpu]["pid"]
        with pinned(cpu):
            for proto, ask in (("tcp", tcp_info), ("udp", udp_info)):
                for _ in range(N):
                    kv = ask(HOST, d.info_port)
                    w = pids.get(kv["pid"])
                    check(w is not None, f"info reply from pid {kv['pid']}, "
                          f"not a worker in status {sorted(pids)}: {kv}")
                    check(kv["cpu"] == w["cpu"] and kv["worker"] == w["id"],
                          f"info reply {kv} disagrees with status: worker "
                          f"{w['id']} on CPU {w['cpu']}")
                    served[proto][kv["pid"]] = \
                        served[proto].get(kv["pid"], 0) + 1
                    local[proto] += kv["pid"] == mine
                    if proto == "tcp":
                        incoming_match += kv["incoming_cpu"] == cpu
    return local, served, incoming_match


def check_status(d, served, steering, restarts=0):
    """status --json shows at least what the clients saw; the table
    prints."""
    def caught_up():
        ws = d.workers()
        for w in ws.values():
            if w["accepted"] < served["tcp"].get(w["pid"], 0) or \
               w["datagrams"] < served["udp"].get(w["pid"], 0):
                return None
        return ws
    ws = wait_until(caught_up, 5.0)
    if ws is None:
        ws = d.workers()
        fail(f"status counts are below what the clients were served: "
             f"served {served}, status {list(ws.values())}")
    for w in ws.values():
        check(w["local"] + w["remote"] <= w["accepted"],
              f"worker {w['id']}: local {w['local']} + remote {w['remote']} "
              f"> accepted {w['accepted']}")
        check(w["restarts"] <= restarts, f"worker {w['id']} restarted "
              f"{w['restarts']} times during the test")
    accepted = sum(w["accepted"] for w in ws.values())
    local = sum(w["local"] for w in ws.values())
    remote = sum(w["remote"] for w in ws.values())
    say(f"  status: accepted {accepted}, local {local}, remote {remote}, "
        f"datagrams {sum(w['datagrams'] for w in ws.values())}")
    if steering != "none":
        check(local >= 0.99 * accepted, f"status: only {local} of "
              f"{accepted} connections local with {steering}")
    else:
        check(remote > 0, f"status: no remote connection with steering "
              f"none ({local} local of {accepted})")
    r = run(["status", "-s", d.sock])
    check(r.returncode == 0, f"status (table) exited {r.returncode}: "
          f"{r.stderr.strip()}")
    n = len(ws)
    for word in ("PID", "CPU", "ACCEPTED", f"{n} worker{'s' if n > 1 else ''}"):
        check(word in r.stdout, f"status table lacks {word!r}:\n{r.stdout}")
    for w in ws.values():
        check(str(w["pid"]) in r.stdout, f"status table lacks worker pid "
              f"{w['pid']}:\n{r.stdout}")


def locality(d, what, cpus=CPUS, restarts=0):
    """Measures from CPUS and checks status; returns the percentages of
    TCP and UDP flows local, and of incoming_cpu matching the client."""
    workers = d.workers()
    local, served, incoming = measure(d, workers, cpus)
    total = N * len(cpus)
    pct = {p: 100.0 * local[p] / total for p in local}
    say(f"{what}: TCP {pct['tcp']:.1f}% ({local['tcp']}/{total}), UDP "
        f"{pct['udp']:.1f}% ({local['udp']}/{total}) on the worker of the "
        f"client's CPU; incoming_cpu = client CPU for {incoming}/{total}")
    check_status(d, served, d.steering, restarts)
    return pct, incoming / total


def check_steers(pct, what):
    for proto in ("tcp", "udp"):
        check(pct[proto] >= 99.0, f"{what}: only {pct[proto]:.1f}% "
              f"of {proto.upper()} flows on the worker of the client's CPU "
              f"(kernel {platform.release()})")


def reload_plan(d, plan):
    d.plan = plan
    d.write_config(d.listeners)
    r = d.reload("--wait")
    check(r.returncode == 0, f"reload to workers \"{plan}\" exited "
          f"{r.returncode}: {r.stderr.strip()}")
    want = sorted(int(c) for c in plan.replace("-", ",").split(","))
    want = list(range(want[0], want[-1] + 1))
    got = wait_until(lambda: sorted(d.workers()) == want and
                     d.all_ready(d.status()), 10.0)
    check(got, f"after the reload to \"{plan}\": workers on CPUs "
          f"{sorted(d.workers())}, not {want}")


def cbpf_changes(d):
    """cbpf after a respawn and after reloads that change the group's
    socket order: 99% local each time."""
    victim = d.workers()[1]
    os.kill(victim["pid"], signal.SIGKILL)
    back = wait_until(lambda: d.workers()[1]["pid"] not in (0,
                      victim["pid"]) and d.all_ready(d.status()), 10.0)
    check(back, f"worker on CPU 1 not respawned: {d.workers()[1]}")
    pct, _ = locality(d, "cbpf after a respawn", restarts=1)
    check_steers(pct, "cbpf after a respawn")
    results = {"respawn": pct}
    # CPU 0's sockets leave the groups, then new ones join at the end.
    reload_plan(d, "1")
    pct, _ = locality(d, "cbpf after a reload to workers \"1\"", (1,),
                      restarts=1)
    check_steers(pct, "cbpf with one worker")
    reload_plan(d, "0-1")
    pct, _ = locality(d, "cbpf after a reload back to workers \"0-1\"",
                      restarts=1)
    check_steers(pct, "cbpf after reloads")
    results["reload"] = pct
    return results


def scenario(steering, changes=None):
    d = start(steering)
    try:
        workers = d.workers()
        check(sorted(workers) == list(CPUS), f"workers on CPUs "
              f"{sorted(workers)}, not {list(CPUS)}")
        check_echo(d)
        doc = d.status()
        say(f"steering {steering}: status says steering "
            f"{doc.get('steering')!r}: {doc.get('steering_reason')}")
        pct, incoming = locality(d, f"steering {steering}")
        more = changes(d) if changes is not None else None
        rc = d.stop()
        check(rc == 0, f"SIGTERM: exit status {rc}; log:\n{d.log_tail()}")
        return pct, incoming, doc, more
    finally:
        d.kill()


def main():
    require_cpus(*CPUS)
    pct, incoming, _, _ = scenario("incoming-cpu")
    check_steers(pct, "incoming-cpu (SO_INCOMING_CPU steering needs Linux "
                 "6.2 or a kernel with the fix; steering \"auto\" finds "
                 "out)")
    check(incoming >= 0.99, f"incoming-cpu: incoming_cpu matched the "
          f"client's CPU for only {100 * incoming:.1f}% of connections")
    pct, incoming, doc, _ = scenario("cbpf", cbpf_changes)
    check(doc.get("steering") == "cbpf", f"cbpf: status says steering "
          f"{doc.get('steering')!r}")
    check_steers(pct, "cbpf")
    check(incoming >= 0.99, f"cbpf: incoming_cpu matched the client's CPU "
          f"for only {100 * incoming:.1f}% of connections")
    pct, _, doc, _ = scenario("auto")
    check(doc.get("steering") in ("incoming-cpu", "cbpf") and
          doc.get("steering_config") == "auto" and
          doc.get("steering_reason"), f"auto: status says steering "
          f"{doc.get('steering')!r} ({doc.get('steering_config')!r}): "
          f"{doc.get('steering_reason')!r}")
    check_steers(pct, f"auto ({doc.get('steering')})")
    pct, _, _, _ = scenario("none")
    for proto in ("tcp", "udp"):
        check(pct[proto] < 90.0, f"none: {pct[proto]:.1f}% of "
              f"{proto.upper()} flows landed on the client's CPU: no "
              f"contrast with incoming-cpu")
    say("steering: all checks passed")


if __name__ == "__main__":
    main()
