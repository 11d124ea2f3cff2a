# SPDX-License-Identifier: BSD-2-Clause
"""affinityd doctor on this machine and on a fixture tree: the text report
(one line per finding with OK, WARN or FAIL, a "fix:" line under each one
that is not OK, a closing count), the --json document and its "failures",
the exit code (1 exactly when something FAILs: an open-file limit too low
for max_connections makes one), findings that match what this host says
(tcp_migrate_req), the steering "topology" reports for the same file, a
configuration that does not load, usage errors, and the daemon's start-up
warning worded as the doctor words it."""
import sys
sys.dont_write_bytecode = True

import json
import os
import re
import resource
import subprocess

from affinityd_test import (EXIT_USAGE, Daemon, binary, check, fail,
                            free_port, listener, run, say, srcdir, tempdir,
                            wait_until)

STATUSES = ("OK", "WARN", "FAIL")
LINE = re.compile(r"^(OK|WARN|FAIL) +([a-z][a-z-]+) +(\S.*)$")
FIX = re.compile(r"^ {6,}fix: \S")
SUMMARY = re.compile(r"^(\d+) OK, (\d+) WARN, (\d+) FAIL: \S")


def parse_text(out):
    """The findings of a text report as (status, check, why, fix)."""
    lines = out.rstrip("\n").split("\n")
    check(lines[0].startswith("affinityd doctor: "), f"no heading: "
          f"{lines[0]!r}")
    m = SUMMARY.match(lines[-1])
    check(m, f"no closing count: {lines[-1]!r}")
    findings = []
    for line in lines[1:-1]:
        if line == "":
            continue
        if FIX.match(line):
            check(findings and findings[-1][3] is None,
                  f"a fix line not under a finding: {line!r}")
            findings[-1] = findings[-1][:3] + (line.split("fix: ", 1)[1],)
            continue
        f = LINE.match(line)
        check(f, f"not a finding line: {line!r}")
        findings.append((f.group(1), f.group(2), f.group(3), None))
    for status, name, why, fix in findings:
        where = "missing" if fix is None else "on an OK finding"
        check((fix is None) == (status == "OK"),
              f"{status} {name}: fix line {where}")
    counts = [sum(1 for f in findings if f[0] == s) for s in STATUSES]
    check(counts == [int(g) for g in m.groups()],
          f"the closing count {m.group(0)!r} does not match {counts}")
    return findings


def check_json(out):
    doc = json.loads(out)
    check(set(doc) == {"version", "findings", "failures", "counts"},
          f"keys {sorted(doc)}")
    check(doc["version"] == 1, f"version {doc['version']!r}")
    for f in doc["findings"]:
        check(set(f) == {"check", "status", "why", "fix"}, f"finding {f}")
        check(f["status"] in STATUSES, f"status {f['status']!r}")
        check(isinstance(f["why"], str) and f["why"], f"why of {f}")
        check((f["fix"] is None) == (f["status"] == "OK"), f"fix of {f}")
    fails = sum(1 for f in doc["findings"] if f["status"] == "FAIL")
    check(doc["failures"] == fails, f"failures {doc['failures']}, "
          f"{fails} FAIL findings")
    counts = {s.lower(): sum(1 for f in doc["findings"] if f["status"] == s)
              for s in STATUSES}
    check(doc["counts"] == counts, f"counts {doc['counts']}, not {counts}")
    return doc


def finding(findings, name):
    got = [f for f in findings if f[1] == name]
    check(len(got) == 1, f"{len(got)} {name} findings, not 1")
    return got[0]


def test_this_machine():
    r = run(["doctor"])
    check(r.returncode in (0, 1), f"doctor exited {r.returncode}: "
          f"{r.stderr[-500:]}")
    text = parse_text(r.stdout)
    check(r.returncode == (1 if any(f[0] == "FAIL" for f in text) else 0),
          f"exit {r.returncode} with {[f[:2] for f in text]}")
    for name in ("plan", "steering", "tcp-migrate-req", "somaxconn",
                 "nofile", "housekeeping", "init-cpus", "isolcpus", "cpuset"):
        finding(text, name)
    r2 = run(["doctor", "--json"])
    check(r2.returncode == r.returncode, f"--json exited {r2.returncode}, "
          f"text {r.returncode}")
    doc = check_json(r2.stdout)
    check([f["check"] for f in doc["findings"]] == [f[1] for f in text],
          "text and JSON list other checks")
    # What the host says, the doctor says.
    try:
        with open("/proc/sys/net/ipv4/tcp_migrate_req") as f:
            migrate = f.read().strip()
    except OSError:
        migrate = None
    status = finding(text, "tcp-migrate-req")[0]
    check(status == ("OK" if migrate not in (None, "0") else "WARN"),
          f"tcp_migrate_req is {migrate}, doctor says {status}")
    say(f"this machine: {r.stdout.splitlines()[-1]}")
    return r.stdout


def test_nofile_fails():
    """A soft limit below what max_connections needs is a FAIL: exit 1."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 512 and soft != resource.RLIM_INFINITY:
        fail(f"this shell's open-file limit {soft} is too low to test")
    low = 256

    def lower():
        resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))

    r = subprocess.run([binary(), "doctor", "--json"], capture_output=True,
                       text=True, timeout=60, preexec_fn=lower)
    check(r.returncode == 1, f"doctor with nofile {low} exited "
          f"{r.returncode}: {r.stdout[-800:]}")
    doc = check_json(r.stdout)
    nofile = [f for f in doc["findings"] if f["check"] == "nofile"]
    check(nofile and nofile[0]["status"] == "FAIL" and
          f"is {low} " in nofile[0]["why"], f"nofile finding {nofile}")
    check(doc["failures"] >= 1, "failures is 0")


def test_fixture():
    # Relative, as an operator types it: the tree's interfaces are found.
    root = os.path.relpath(os.path.join(srcdir(), "tests", "fixtures",
                                        "sysroot", "mlx5"))
    r = run(["doctor", "--sysroot", root])
    check(r.returncode == 0, f"doctor on mlx5 exited {r.returncode}: "
          f"{r.stdout[-800:]}")
    text = parse_text(r.stdout)
    spread = [f for f in text if f[1] == "irq-affinity"]
    check(len(spread) == 4 and all(f[0] == "WARN" and "CPUs 0-3" in f[2]
                                   for f in spread),
          f"eth1's four unpinned IRQs: {spread}")
    check(finding(text, "queue-sharing")[0] == "WARN", "queue-sharing")
    check(f"on {root}" in r.stdout.splitlines()[0],
          f"the heading does not name the sysroot: {r.stdout.splitlines()[0]}")


def test_bad_config_and_usage():
    d = tempdir()
    path = os.path.join(d, "bad.conf")
    with open(path, "w") as f:
        f.write("topology = { workers = \"bogus\"; };\n")
    r = run(["doctor", "-c", path, "--json"])
    check(r.returncode == 1, f"a bad config exited {r.returncode}")
    doc = check_json(r.stdout)
    check(len(doc["findings"]) == 1 and doc["findings"][0]["check"] ==
          "config" and path in doc["findings"][0]["why"] and
          "affinityd -t" in doc["findings"][0]["fix"], f"{doc}")
    for args in (["doctor", "--bogus"], ["doctor", "extra"]):
        r = run(args)
        check(r.returncode == EXIT_USAGE, f"{args} exited {r.returncode}")
    r = run(["doctor", "--help"])
    check(r.returncode == 0 and "--sysroot" in r.stdout, "doctor --help")


def test_daemon_agrees():
    """The master's start-up warning about tcp_migrate_req is the doctor's
    finding, word for word."""
    try:
        with open("/proc/sys/net/ipv4/tcp_migrate_req") as f:
            if f.read().strip() != "0":
                say("tcp_migrate_req is on here: nothing to compare")
                return
    except OSError:
        say("no tcp_migrate_req here: nothing to compare")
        return
    r = run(["doctor", "--json"])
    doc = json.loads(r.stdout)
    why = [f["why"] for f in doc["findings"]
           if f["check"] == "tcp-migrate-req"][0]
    d = Daemon([listener("echo", "tcp", free_port(), "echo")], workers="0")
    d.start()
    d.wait_ready()
    check(wait_until(lambda: why in d.log(), 10), f"the daemon's log does "
          f"not hold the doctor's words {why!r}: {d.log_tail()}")
    d.stop()


def test_steering_agrees():
    """The doctor's steering finding names the method and reason that
    "affinityd topology" prints for the same configuration."""
    conf = os.path.join(srcdir(), "conf", "affinityd.conf")
    r = run(["topology", "--json", "-c", conf])
    check(r.returncode == 0, f"topology exited {r.returncode}: {r.stderr}")
    steer = json.loads(r.stdout).get("steering")
    check(steer and steer.get("method") and steer.get("reason"),
          f"topology --json has no steering: {r.stdout[:300]}")
    r = run(["doctor", "--json", "-c", conf])
    doc = check_json(r.stdout)
    why = [f["why"] for f in doc["findings"] if f["check"] == "steering"]
    check(len(why) == 1, f"{len(why)} steering findings")
    check(f"picks {steer['method']} here" in why[0] or
          f"would pick {steer['method']}" in why[0],
          f"doctor says {why[0]!r}, topology {steer['method']}")
    # The self-test's counts may differ between runs; the method may not.
    say(f"steering: {why[0]}")


def main():
    test_this_machine()
    test_steering_agrees()
    test_nofile_fails()
    test_fixture()
    test_bad_config_and_usage()
    test_daemon_agrees()
    say("PASS")


main()
