# SPDX-License-Identifier: BSD-2-Clause
"""Steering through a veth pair: the daemon runs in its own network
namespace behind a veth whose receive queue has rps_cpus set to CPU 1, so
CPU 1 processes every packet it receives whatever CPU sent it.  A client
pinned to CPU 0 outside the namespace must be served by the worker on
CPU 1 for at least 99% of its connections and datagrams, with
incoming_cpu=1 in the TCP replies, with steering "incoming-cpu" and with
"cbpf"; and "affinityd topology" in the namespace must report the veth
queue on CPU 1 from RPS."""
import sys
sys.dont_write_bytecode = True

import json
import os
import shutil
import subprocess

from affinityd_test import (Daemon, check, fail, listener, pinned,
                            require_cpus, run, say, skip, tcp_info, udp_info,
                            wait_until)

CLIENT_CPU, RPS_CPU = 0, 1
N = 200
# Private /30s tried in turn; the first that no local address or route
# touches is used.  Traffic stays between this machine's namespaces.
NETS = ("192.168.250", "192.168.251", "10.250.250")
INFO_PORT, ECHO_PORT = 7778, 7777	# the namespace is empty: any port


def ip(*args, check_rc=True):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True,
                       timeout=20)
    if check_rc and r.returncode != 0:
        fail(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r


def pick_net():
    used = ip("-4", "addr", "show").stdout + ip("-4", "route", "show").stdout
    for net in NETS:
        if net + "." not in used:
            return net
    skip(f"every candidate network {NETS} is already in use here")


class Netns:
    """A namespace NAME holding the veth end IN (address .2/30), its peer
    OUT (.1/30) left in this namespace; removed by close()."""

    def __init__(self):
        tag = os.getpid()
        self.name = f"affinityd-e2e-{tag}"
        self.out, self.inside = f"ae{tag}o", f"ae{tag}i"
        self.made = False

    def open(self, net):
        r = ip("netns", "add", self.name, check_rc=False)
        if r.returncode != 0:
            skip(f"ip netns add failed: {r.stderr.strip()}")
        self.made = True
        r = ip("link", "add", self.out, "type", "veth", "peer", "name",
               self.inside, check_rc=False)
        if r.returncode != 0:
            skip(f"cannot create a veth pair: {r.stderr.strip()}")
        self.host, self.addr = f"{net}.1", f"{net}.2"
        ip("link", "set", self.inside, "netns", self.name)
        ip("addr", "add", f"{self.host}/30", "dev", self.out)
        ip("link", "set", self.out, "up")
        ip("-n", self.name, "link", "set", "lo", "up")
        ip("-n", self.name, "addr", "add", f"{self.addr}/30", "dev",
           self.inside)
        ip("-n", self.name, "link", "set", self.inside, "up")
        rps = f"/sys/class/net/{self.inside}/queues/rx-0/rps_cpus"
        mask = format(1 << RPS_CPU, "x")
        r = ip("netns", "exec", self.name, "sh", "-c",
               f"echo {mask} > {rps} && cat {rps}", check_rc=False)
        if r.returncode != 0:
            skip(f"cannot set {rps} in the namespace: {r.stderr.strip()}")
        check(int(r.stdout.strip().replace(",", ""), 16) == 1 << RPS_CPU,
              f"{rps} reads {r.stdout.strip()!r} after writing {mask}")
        return self

    def close(self):
        if self.made:
            ip("netns", "del", self.name, check_rc=False)
        # Deleting the namespace deletes the inner end and so the pair;
        # this catches a pair whose inner end never moved.
        if os.path.exists(f"/sys/class/net/{self.out}"):
            ip("link", "del", self.out, check_rc=False)


def check_topology(ns, d):
    for args in (["topology", "--json", ns.inside],
                 ["topology", "--json", "-c", d.conf]):
        r = run(args, netns=ns.name)
        check(r.returncode == 0, f"affinityd {' '.join(args)} in the "
              f"namespace exited {r.returncode}: {r.stderr.strip()}")
        try:
            doc = json.loads(r.stdout)
        except ValueError as e:
            fail(f"topology --json is not JSON ({e}): {r.stdout[:300]!r}")
        ifs = [i for i in doc["interfaces"] if i["name"] == ns.inside]
        check(len(ifs) == 1, f"affinityd {' '.join(args)}: {ns.inside} "
              f"not listed: {r.stdout[:400]!r}")
        i = ifs[0]
        check(i["source"] == "rps", f"{ns.inside}: source {i['source']!r}, "
              f"not 'rps'")
        check([q["cpu"] for q in i["queues"]] == [RPS_CPU],
              f"{ns.inside}: queues {i['queues']}, not one queue on CPU "
              f"{RPS_CPU}")
        check(i["queues"][0]["irq"] is None, f"{ns.inside}: a veth queue "
              f"has no IRQ, yet irq is {i['queues'][0]['irq']}")
    say(f"topology in the namespace: {ns.inside} rx-0 on CPU {RPS_CPU} "
        f"(rps)")


def serve_through(ns, steering):
    """Runs the daemon with STEERING in the namespace and checks that a
    client on CPU 0 is served on CPU 1, where RPS processes its packets."""
    d = Daemon([listener("info", "tcp", INFO_PORT, "info", ns.addr),
                listener("info-udp", "udp", INFO_PORT, "info", ns.addr),
                listener("echo", "tcp", ECHO_PORT, "echo", ns.addr)],
               workers="0-1", steering=steering, netns=ns.name)
    check_topology(ns, d)
    d.start().wait_ready()
    workers = d.workers()
    check(sorted(workers) == [0, 1], f"workers on CPUs {sorted(workers)}")
    target = workers[RPS_CPU]
    tcp = udp = incoming = 0
    with pinned(CLIENT_CPU):
        for _ in range(N):
            kv = tcp_info(ns.addr, INFO_PORT)
            tcp += kv["pid"] == target["pid"] and kv["cpu"] == RPS_CPU
            incoming += kv["incoming_cpu"] == RPS_CPU
        for _ in range(N):
            kv = udp_info(ns.addr, INFO_PORT)
            udp += kv["pid"] == target["pid"] and kv["cpu"] == RPS_CPU
    say(f"netns, steering {steering}: client on CPU {CLIENT_CPU}, RPS on "
        f"CPU {RPS_CPU}: TCP {100.0 * tcp / N:.1f}% ({tcp}/{N}), UDP "
        f"{100.0 * udp / N:.1f}% ({udp}/{N}) served by the worker on CPU "
        f"{RPS_CPU}; incoming_cpu={RPS_CPU} for {incoming}/{N}")
    check(tcp >= 0.99 * N, f"{steering}: only {tcp}/{N} connections served "
          f"by the worker on CPU {RPS_CPU}")
    check(udp >= 0.99 * N, f"{steering}: only {udp}/{N} datagrams served "
          f"by the worker on CPU {RPS_CPU}")
    check(incoming >= 0.99 * N, f"{steering}: incoming_cpu={RPS_CPU} in "
          f"only {incoming}/{N} replies")

    def counted():
        w = d.workers()[RPS_CPU]
        return w if w["accepted"] >= tcp and w["datagrams"] >= udp \
            else None
    w = wait_until(counted, 5.0)
    check(w is not None, f"status of the worker on CPU {RPS_CPU} shows "
          f"less than it served: {d.workers()[RPS_CPU]}")
    check(w["local"] >= 0.99 * w["accepted"], f"status: worker on CPU "
          f"{RPS_CPU}: local {w['local']} of {w['accepted']} accepted")
    rc = d.stop()
    check(rc == 0, f"SIGTERM: exit status {rc}; log:\n{d.log_tail()}")
    return d


def main():
    if os.geteuid() != 0:
        skip("needs root to create a network namespace and a veth pair")
    if shutil.which("ip") is None:
        skip("the ip command (iproute2) is not installed")
    require_cpus(CLIENT_CPU, RPS_CPU)
    ns = Netns()
    try:
        ns.open(pick_net())
        for steering in ("incoming-cpu", "cbpf"):
            serve_through(ns, steering).kill()
        say("steering_netns: all checks passed")
    finally:
        ns.close()


if __name__ == "__main__":
    main()
