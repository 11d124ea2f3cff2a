# SPDX-License-Identifier: BSD-2-Clause
"""scripts/bench --smoke runs against the daemon under test: every server
(affinityd in both steering modes, nginx, the ceiling) answers every load,
and the report holds every row and column with numbers, so that the
benchmark cannot rot unnoticed.  Skips (77) when nginx or wrk cannot be
installed, or the machine lacks CPUs 0 and 1."""
import sys
sys.dont_write_bytecode = True

import csv
import os
import subprocess

from affinityd_test import binary, check, fail, require_cpus, say, skip, \
    srcdir, tempdir, EXIT_SKIP

SERVERS = ("affinityd-incoming-cpu", "affinityd-none", "nginx", "ceiling")
RATES = ("keepalive", "close", "udp")


def main():
    require_cpus(0, 1)
    out = tempdir()
    cmd = [sys.executable, os.path.join(srcdir(), "scripts", "bench"),
           "--smoke", "--binary", binary(), "--out", out]
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=600)
    except subprocess.TimeoutExpired:
        fail("scripts/bench --smoke did not finish within 600 s")
    say(r.stdout[-4000:])
    if r.returncode == EXIT_SKIP:
        skip(r.stdout.strip().splitlines()[-1] if r.stdout.strip()
             else "scripts/bench --smoke skipped")
    check(r.returncode == 0,
          f"scripts/bench --smoke exited {r.returncode}:\n{r.stderr[-4000:]}")
    for name in ("bench.md", "bench.csv", "rounds.csv"):
        check(os.path.exists(os.path.join(out, name)), f"no {name} written")
    with open(os.path.join(out, "bench.csv")) as f:
        rows = {row["server"]: row for row in csv.DictReader(f)}
    for s in SERVERS:
        check(s in rows, f"bench.csv has no row for {s}: {sorted(rows)}")
        for k in RATES:
            v = rows[s].get(k) or ""
            check(v and float(v) > 0, f"{s}: no {k} rate ({v!r})")
    for s in SERVERS[:3]:
        loc = rows[s].get("locality") or ""
        check(loc != "" and 0 <= float(loc) <= 1,
              f"{s}: no locality ({loc!r})")
        check(rows[s].get("rss_kib"), f"{s}: no peak RSS")
    with open(os.path.join(out, "bench.md")) as f:
        md = f.read()
    check("x nginx" in md and "Targets:" in md,
          "bench.md lacks the ratios or the targets")


if __name__ == "__main__":
    main()
