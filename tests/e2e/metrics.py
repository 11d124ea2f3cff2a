# SPDX-License-Identifier: BSD-2-Clause
"""Prometheus metrics: a daemon with two workers on CPUs 0 and 1 serves
GET /metrics on a loopback port.  A client pinned to CPU 1 makes info and
echo connections and sends datagrams; the scrape must then parse as text
format 0.0.4 (Content-Type with charset=utf-8), carry HELP and TYPE for
every family, and agree with "affinityd status --json": the counters CPU
by CPU (under the same names, the locality of a connection a label), their
sums with the status totals, the gauges worker by worker; build_info and
start_time match the version and start time status shows.  Other paths get 404, other methods
405, HEAD the headers alone; no worker holds the metrics socket; a reload
shows the new generation; a second daemon on the same metrics address
exits 71 naming daemon.metrics and the address."""
import sys
sys.dont_write_bytecode = True

import http.client
import os
import re
import socket
import time

from affinityd_test import (EXIT_OSERR, Daemon, check, fail, free_port,
                            listener, pinned, require_cpus, say, tcp_echo,
                            tcp_info, udp_echo, udp_info, wait_until)

CPUS = (0, 1)
CLIENT_CPU = 1
N = 20
HOST = "127.0.0.1"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Per-CPU counters: the status --json key each one mirrors (the same name,
# without "affinityd_" and "_total").
CPU_COUNTERS = {
    "affinityd_accepted_total": "accepted",
    "affinityd_datagrams_total": "datagrams",
    "affinityd_bytes_received_total": "bytes_received",
    "affinityd_bytes_sent_total": "bytes_sent",
    "affinityd_errors_total": "errors",
    "affinityd_cpu_mismatches_total": "cpu_mismatches",
    "affinityd_restarts_total": "restarts",
    "affinityd_idle_timeouts_total": "idle_timeouts",
    "affinityd_header_timeouts_total": "header_timeouts",
    "affinityd_evicted_total": "evicted",
}
# The connections by locality: one family, the locality a label.
CONNECTIONS = "affinityd_connections_total"
# Per-worker gauges and the status key each one mirrors.
WORKER_GAUGES = {
    "affinityd_open_connections": "open_connections",
    "affinityd_buffered_bytes": "buffered_bytes",
    "affinityd_heartbeat_age_seconds": "heartbeat_age_seconds",
}
GLOBAL_FAMILIES = {"affinityd_generation": "gauge",
                   "affinityd_workers": "gauge",
                   "affinityd_remaps_total": "counter",
                   "affinityd_start_time_seconds": "gauge"}
# One sample labelled with the steering method in use and as configured.
STEERING_FAMILY = "affinityd_steering_info"
BUILD_FAMILY = "affinityd_build_info"

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class MetricsDaemon(Daemon):
    """A Daemon whose configuration also sets daemon.metrics."""

    def __init__(self, listeners, metrics, **kw):
        self.metrics = metrics
        super().__init__(listeners, **kw)

    def config_text(self, listeners, steering=None):
        text = super().config_text(listeners, steering)
        return text.replace("daemon = {\n", f'daemon = {{\n  metrics = '
                            f'"{self.metrics}";\n', 1)


def request(port, method="GET", path="/metrics"):
    """(status, headers, body) of one request on a fresh connection."""
    c = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except OSError as e:
        fail(f"{method} {path} on port {port}: {e}")
    finally:
        c.close()


def parse(text):
    """{family: {"help", "type", "samples": {labels tuple: value}}};
    fails on a line that is not text format 0.0.4 or a sample before its
    family's TYPE."""
    fams = {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            _, kind, name, rest = line.split(" ", 3)
            f = fams.setdefault(name, {"samples": {}})
            check(kind.lower() not in f, f"second # {kind} for {name}")
            f[kind.lower()] = rest
            continue
        check(not line.startswith("#"), f"stray comment: {line!r}")
        m = SAMPLE.match(line)
        check(m is not None, f"not a sample line: {line!r}")
        name, labels, value = m.groups()
        f = fams.get(name)
        check(f is not None and "type" in f, f"sample before the # TYPE "
              f"of its family: {line!r}")
        lab = tuple(sorted(LABEL.findall(labels or "")))
        check(lab not in f["samples"], f"duplicate sample: {line!r}")
        try:
            f["samples"][lab] = float(value)
        except ValueError:
            fail(f"sample value is not a number: {line!r}")
    return fams


def scrape(port):
    status, headers, body = request(port)
    check(status == 200, f"GET /metrics: {status} {body[:200]!r}")
    ctype = headers.get("content-type", "")
    check(ctype.startswith(CONTENT_TYPE), f"Content-Type {ctype!r}, not "
          f"{CONTENT_TYPE!r}")
    return parse(body.decode("utf-8"))


def by_cpu(fams):
    """{cpu: {status key: value}} of the per-CPU counters of a scrape."""
    out = {}
    for name, key in CPU_COUNTERS.items():
        for lab, v in fams[name]["samples"].items():
            d = dict(lab)
            check(set(d) == {"cpu"}, f"{name}: labels {d}, not cpu")
            out.setdefault(int(d["cpu"]), {})[key] = v
    for lab, v in fams[CONNECTIONS]["samples"].items():
        d = dict(lab)
        check(set(d) == {"cpu", "locality"} and d["locality"] in
              ("local", "remote"), f"{CONNECTIONS}: labels {d}")
        out.setdefault(int(d["cpu"]), {})[f"connections_{d['locality']}"] = v
    return out


def by_worker(fams):
    """{(worker id, cpu): {status key: value}} of the per-worker gauges."""
    out = {}
    for name, key in WORKER_GAUGES.items():
        for lab, v in fams[name]["samples"].items():
            d = dict(lab)
            check(set(d) == {"worker", "cpu"}, f"{name}: labels {d}, not "
                  f"worker and cpu")
            out.setdefault((int(d["worker"]), int(d["cpu"])), {})[key] = v
    return out


def check_format(fams, nworkers):
    expect = dict(GLOBAL_FAMILIES)
    expect[STEERING_FAMILY] = "gauge"
    expect[BUILD_FAMILY] = "gauge"
    expect[CONNECTIONS] = "counter"
    expect.update({k: "counter" for k in CPU_COUNTERS})
    expect.update({k: "gauge" for k in WORKER_GAUGES})
    for name in expect:
        check(name in fams, f"no family {name}")
    for name, f in fams.items():
        check(name in expect, f"unexpected family {name}")
        check(f.get("help"), f"{name} has no # HELP text")
        check(f.get("type") == expect[name], f"{name} is typed "
              f"{f.get('type')!r}, not {expect[name]!r}")
        if name in WORKER_GAUGES and name != "affinityd_heartbeat_age_seconds":
            check(len(f["samples"]) == nworkers, f"{name} has "
                  f"{len(f['samples'])} samples, not one per worker "
                  f"({nworkers})")
        elif name in CPU_COUNTERS:
            check(len(f["samples"]) >= nworkers, f"{name} has "
                  f"{len(f['samples'])} samples, fewer than the CPUs with "
                  f"a worker ({nworkers})")
        elif name in (STEERING_FAMILY, BUILD_FAMILY):
            labels = [dict(lab) for lab in f["samples"]]
            want = {"method", "config"} if name == STEERING_FAMILY else \
                {"version"}
            check(len(labels) == 1 and set(labels[0]) == want and
                  list(f["samples"].values()) == [1],
                  f"{name}: {f['samples']}")
        elif name not in WORKER_GAUGES and name != CONNECTIONS:
            check(list(f["samples"]) == [()], f"{name}: {f['samples']}")


def traffic(d):
    """Info and echo over TCP and UDP from CPU 1; the bytes sent."""
    sent = 0
    with pinned(CLIENT_CPU):
        for i in range(N):
            kv = tcp_info(HOST, d.info_port)
            check(kv["cpu"] == CLIENT_CPU, f"info from CPU {CLIENT_CPU} "
                  f"landed on CPU {kv['cpu']}: {kv}")
            udp_info(HOST, d.info_port)
            sent += len(b"where\n")
            payload = os.urandom(1000 + i)
            check(tcp_echo(HOST, d.echo_port, payload) == payload,
                  "TCP echo returned something else")
            check(udp_echo(HOST, d.echo_port, payload) == payload,
                  "UDP echo returned something else")
            sent += 2 * len(payload)
    return sent


def check_counts(d, sent):
    """Waits until two scrapes agree with each other and with status in
    between (the workers are quiet then), and checks the sums."""
    last = {}

    def settled():
        a = scrape(d.metrics_port)
        doc = d.status()
        b = scrape(d.metrics_port)
        last.update(a=a, b=b, doc=doc)
        if doc is None or not d.all_ready(doc):
            return False
        ca, cb, wa = by_cpu(a), by_cpu(b), by_worker(a)
        ws = {(w["id"], w["cpu"]): w for w in doc["workers"]}
        if set(ws) != set(wa) or ca != cb:
            return False
        for (wid, cpu), w in ws.items():
            if w["open_connections"] != 0 or \
               wa[(wid, cpu)]["open_connections"] != 0:
                return False
            if any(w[key] != v for key, v in ca[cpu].items()):
                return False
        totals = doc["totals"]
        for key in totals:
            if totals[key] != sum(c[key] for c in ca.values()):
                return False
        return ws
    ws = wait_until(settled, 10.0, 0.2)
    if not ws:
        fail(f"metrics and status --json disagree:\nmetrics "
             f"{by_cpu(last.get('a'))}\nstatus {last.get('doc')}")
    m = by_worker(last["b"])
    for k, w in ws.items():
        age = m[k].get("heartbeat_age_seconds")
        check(age is not None and 0 <= age < 10, f"worker {k}: heartbeat "
              f"age {age} s")
        check(abs(w["heartbeat_age_seconds"] * 1000 - w["heartbeat_age_ms"])
              < 2, f"worker {k}: heartbeat_age_seconds "
              f"{w['heartbeat_age_seconds']} vs ms {w['heartbeat_age_ms']}")
        for old, new in (("local", "connections_local"),
                         ("remote", "connections_remote"),
                         ("bytes_in", "bytes_received"),
                         ("bytes_out", "bytes_sent"),
                         ("open_conns", "open_connections")):
            check(w[old] == w[new], f"worker {k}: {old} {w[old]} but {new} "
                  f"{w[new]}")
    c = by_cpu(last["b"])
    check(c[CLIENT_CPU]["accepted"] >= 2 * N, f"CPU {CLIENT_CPU} accepted "
          f"{c[CLIENT_CPU]['accepted']}, fewer than the {2 * N} made")
    check(c[CLIENT_CPU]["connections_local"] >= 2 * N, f"CPU {CLIENT_CPU}: "
          f"local {c[CLIENT_CPU]['connections_local']} of {2 * N}")
    check(sum(v["datagrams"] for v in c.values()) >= 2 * N,
          f"datagrams {[v['datagrams'] for v in c.values()]}")
    check(sum(v["bytes_received"] for v in c.values()) >= sent,
          f"bytes received {[v['bytes_received'] for v in c.values()]} < "
          f"{sent}")
    say(f"  metrics agree with status: {sorted(ws)}; accepted "
        f"{[int(v['accepted']) for v in c.values()]}")


def check_daemon_families(fams, doc):
    """build_info carries the version status shows; start_time is when
    the daemon started."""
    (lab, v), = fams[BUILD_FAMILY]["samples"].items()
    check(dict(lab)["version"] == doc["daemon_version"], f"{BUILD_FAMILY} "
          f"{lab} vs status daemon_version {doc['daemon_version']!r}")
    start = fams["affinityd_start_time_seconds"]["samples"][()]
    check(abs(start - doc["start_time_seconds"]) < 0.01 and
          time.time() - 600 < start <= time.time(), f"start time {start} "
          f"vs status {doc['start_time_seconds']} and now {time.time()}")


def check_http(port):
    status, headers, body = request(port, path="/nope")
    check(status == 404, f"GET /nope: {status}, not 404")
    for method in ("POST", "PUT", "DELETE"):
        status, headers, body = request(port, method)
        check(status == 405, f"{method} /metrics: {status}, not 405")
        check(headers.get("allow") == "GET, HEAD", f"{method} /metrics: "
              f"Allow {headers.get('allow')!r}")
    status, headers, body = request(port, "HEAD")
    check(status == 200 and body == b"", f"HEAD /metrics: {status}, body "
          f"{body[:80]!r}")
    check(headers.get("content-type", "").startswith(CONTENT_TYPE),
          f"HEAD /metrics: Content-Type {headers.get('content-type')!r}")
    check(int(headers.get("content-length", "0")) > 0,
          f"HEAD /metrics: Content-Length {headers.get('content-length')!r}")
    # Two requests on one connection: the HEAD reply must not carry a body.
    c = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        for method in ("HEAD", "GET"):
            c.request(method, "/metrics?x=1")
            r = c.getresponse()
            body = r.read()
            check(r.status == 200, f"{method} on a kept-alive connection: "
                  f"{r.status}")
        check(body.startswith(b"# HELP"), f"GET after HEAD: {body[:80]!r}")
    finally:
        c.close()


def socket_inode(port):
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] == "0A" and fields[1].endswith(f":{port:04X}"):
                return fields[9]
    fail(f"nothing listens on TCP port {port}")


def check_workers_closed(d):
    """Only the master holds the metrics socket."""
    target = f"socket:[{socket_inode(d.metrics_port)}]"
    for w in d.workers().values():
        fds = f"/proc/{w['pid']}/fd"
        for fd in os.listdir(fds):
            try:
                link = os.readlink(os.path.join(fds, fd))
            except OSError:
                continue
            check(link != target, f"worker {w['id']} (pid {w['pid']}) "
                  f"holds the metrics socket as fd {fd}")


def check_bind_error(metrics):
    """A second daemon on the same metrics address: exit 71, saying why."""
    p = free_port()
    d = MetricsDaemon([listener("info2", "tcp", p, "info")], metrics,
                      workers="0-1").start()
    try:
        rc = d.wait_exit(20)
        log = d.log()
        check(rc == EXIT_OSERR, f"a second daemon on metrics {metrics}: "
              f"exit {rc}, not {EXIT_OSERR}; log:\n{log[-1500:]}")
        check("daemon.metrics" in log and metrics in log, f"the error does "
              f"not name daemon.metrics and {metrics}:\n{log[-1500:]}")
    finally:
        d.kill()


def main():
    require_cpus(*CPUS)
    info, echo, mport = free_port(), free_port(), free_port()
    metrics = f"{HOST}:{mport}"
    d = MetricsDaemon([listener("info", "tcp", info, "info"),
                       listener("info-udp", "udp", info, "info"),
                       listener("echo", "tcp", echo, "echo"),
                       listener("echo-udp", "udp", echo, "echo")],
                      metrics, workers="0-1").start().wait_ready()
    d.info_port, d.echo_port, d.metrics_port = info, echo, mport
    try:
        fams = scrape(mport)
        check_format(fams, len(CPUS))
        doc = d.status()
        check(fams["affinityd_generation"]["samples"][()] ==
              doc["generation"], f"generation "
              f"{fams['affinityd_generation']['samples']} vs status "
              f"{doc['generation']}")
        check(fams["affinityd_workers"]["samples"][()] == len(CPUS),
              f"affinityd_workers {fams['affinityd_workers']['samples']}")
        steer = dict(next(iter(fams[STEERING_FAMILY]["samples"])))
        check(steer == {"method": doc["steering"],
                        "config": doc["steering_config"]},
              f"{STEERING_FAMILY} {steer} vs status steering "
              f"{doc['steering']} ({doc['steering_config']})")
        check(fams["affinityd_remaps_total"]["samples"][()] ==
              doc["remaps"], f"affinityd_remaps_total vs status remaps "
              f"{doc['remaps']}")
        check(sorted(k[1] for k in by_worker(fams)) == list(CPUS),
              f"workers {sorted(by_worker(fams))}")
        check_daemon_families(fams, doc)
        check_counts(d, traffic(d))
        check_http(mport)
        check_workers_closed(d)
        check_bind_error(metrics)

        r = d.reload("--wait")
        check(r.returncode == 0, f"reload --wait: {r.returncode} "
              f"{r.stderr.strip()}")
        gen = wait_until(lambda: scrape(mport)["affinityd_generation"]
                         ["samples"][()] == d.status()["generation"] > 1,
                         10.0, 0.1)
        check(gen, "after a reload, affinityd_generation is not the new "
              "generation")
        check_workers_closed(d)

        rc = d.stop()
        check(rc == 0, f"SIGTERM: exit status {rc}; log:\n{d.log_tail()}")
        try:
            socket.create_connection((HOST, mport), timeout=2).close()
            fail(f"metrics port {mport} still answers after the stop")
        except ConnectionRefusedError:
            pass
    finally:
        d.kill()
    say("metrics: all checks passed")


if __name__ == "__main__":
    main()
