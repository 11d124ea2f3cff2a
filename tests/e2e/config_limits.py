# SPDX-License-Identifier: BSD-2-Clause
"""The configuration's limits hold in -t, at the start and on reload.

- A 3 MB string (a 3 MB file) stalled the master for seconds on each
  reload, and so did 60000 settings in 900 KB (libconfig's time grows
  with the square of a group's settings): a configuration is now at most
  1 MiB and 4096 settings, refused at once with FILE[:LINE] and why.
- 300 refused reloads of hostile files (syntax errors, bad values,
  integers that do not fit, a directory include, a 900 KB string, a file
  over the limit) leave the master's memory where it was after the first
  few.
- More than 250 listeners passed -t and could not start: -t refuses them.
- workers = "N-M" with no CPU this host lets the daemon use passed -t and
  then failed to start without FILE:LINE: -t, the start and a reload now
  refuse it with FILE:LINE (exit 78)."""
import sys
sys.dont_write_bytecode = True

import os
import time

from affinityd_test import (EXIT_CONFIG, Daemon, asan_build, check,
                            free_port, listener, run, say, tempdir,
                            vmrss_kib)

BIG_STRING = 3 * 1024 * 1024
FAST = 2.0		# seconds a refused reload may take, generously
RELOADS = 300
WARMUP = 30		# reloads before the memory is measured
RSS_GROWTH_KB = 1024	# what the remaining reloads may add




def refused(r, what, where):
    check(r.returncode == EXIT_CONFIG and where in r.stderr, f"{what}: "
          f"exit {r.returncode}, want {EXIT_CONFIG} and {where!r}: "
          f"{r.stderr.strip()[:400]!r}")


def hostile_files(d, good, scratch):
    """(name, text, what the error holds) of each kind of refused file."""
    n = good.count("\n")
    return [
        ("syntax", good + "x = ;\n", f"{d.conf}:{n + 1}: syntax error"),
        ("value", good.replace('steering = "incoming-cpu"',
                               'steering = "sideways"'), "sideways"),
        ("overflow", good + "daemon2 = 4294985073;\n", "4294985073"),
        ("directory", good + f'@include "{scratch}"\n', "is a directory"),
        ("string", good + 'x = "' + "a" * 900000 + '";\n',
         f"{d.conf}:{n + 1}: x: unknown key"),
        ("many", good + "".join(f"k{i} = {i};\n" for i in range(60000)),
         "more than 4096 settings in the configuration"),
        ("too big", good + 'x = "' + "a" * BIG_STRING + '";\n',
         "larger than 1048576 bytes"),
    ]


def test_big_and_many(d, port, scratch):
    before = d.status()
    good = d.config_text(d.listeners)
    files = hostile_files(d, good, scratch)
    d.write_config(d.listeners, files[-1][1])
    t0 = time.monotonic()
    r = d.reload("--wait", "-s", d.sock)
    took = time.monotonic() - t0
    refused(r, "a 3 MB string", f"{d.conf}: the configuration, its "
            f"@include files counted in, is larger than 1048576 bytes")
    check(took < FAST, f"refusing a 3 MB file took {took:.2f} s")
    d.unchanged(before, port)
    say(f"3 MB string: refused in {took * 1000:.0f} ms: "
        f"{r.stderr.strip()}")
    d.write_config(d.listeners, files[-2][1])
    t0 = time.monotonic()
    r = d.reload("--wait", "-s", d.sock)
    took = time.monotonic() - t0
    refused(r, "60000 settings", files[-2][2])
    check(took < FAST, f"refusing 60000 settings took {took:.2f} s")
    say(f"60000 settings: refused in {took * 1000:.0f} ms: "
        f"{r.stderr.strip()}")

    rss = [vmrss_kib(d.pid)]
    t0 = time.monotonic()
    for i in range(RELOADS):
        name, text, want = files[i % len(files)]
        d.write_config(d.listeners, text)
        r = d.reload("--wait", "-s", d.sock)
        refused(r, f"reload {i + 1} ({name})", want)
        if i + 1 == WARMUP:
            rss.append(vmrss_kib(d.pid))
    rss.append(vmrss_kib(d.pid))
    took = time.monotonic() - t0
    d.unchanged(before, port)
    say(f"{RELOADS} refused reloads in {took:.1f} s: master RSS {rss[0]} kB "
        f"at the start, {rss[1]} kB after {WARMUP}, {rss[2]} kB after "
        f"{RELOADS}")
    if asan_build():
        say("  (AddressSanitizer's quarantine holds freed memory, so the "
            "RSS says nothing here; LeakSanitizer checks the master's exit)")
    else:
        check(rss[2] - rss[1] <= RSS_GROWTH_KB, f"the master grew by "
              f"{rss[2] - rss[1]} kB over {RELOADS - WARMUP} refused "
              f"reloads")
    d.write_config(d.listeners)


def test_listeners(scratch, port):
    def text(n):
        ls = ",\n".join(f'  {{ name = "l{i}"; port = {port + i}; '
                        f'handler = "echo"; }}' for i in range(n))
        return f"listeners = (\n{ls}\n);\n"
    path = os.path.join(scratch, "listeners.conf")
    with open(path, "w") as f:
        f.write(text(251))
    r = run(["-t", "-c", path])
    refused(r, "-t with 251 listeners", f"{path}:1: listeners: holds 251 "
            f"listeners; at most 250 can be served")
    say(f"251 listeners: -t exits {r.returncode}: {r.stderr.strip()}")
    with open(path, "w") as f:
        f.write(text(250))
    r = run(["-t", "-c", path])
    check(r.returncode == 0, f"-t with 250 listeners: exit {r.returncode}: "
          f"{r.stderr.strip()[:300]}")


def test_cpus(d, port, scratch):
    allowed = os.sched_getaffinity(0)
    first = max(max(allowed), (os.cpu_count() or 1) - 1) + 3
    if first + 2 >= 4096:
        return say("no CPU number outside this host's to try")
    cpus = f"{first}-{first + 2}"
    text = d.config_text(d.listeners).replace(
        f'workers = "{d.plan}"', f'workers = "{cpus}"')
    check(cpus in text, "cannot set topology.workers")
    line = text[:text.index(cpus)].count("\n") + 1
    where = f"{d.conf}:{line}: topology.workers: none of CPUs {cpus} is one"
    before = d.status()
    d.write_config(d.listeners, text)
    r = run(["-t", "-c", d.conf])
    refused(r, f"-t with workers {cpus}", where)
    say(f"workers = \"{cpus}\": -t exits {r.returncode}: {r.stderr.strip()}")
    r = d.reload("--wait", "-s", d.sock)
    refused(r, f"reload --wait with workers {cpus}", where)
    d.unchanged(before, port)
    say(f"workers = \"{cpus}\": reload --wait exits {r.returncode}")
    other = Daemon([listener("echo2", "tcp", free_port(), "echo")])
    other.write_config(other.listeners, other.config_text(
        other.listeners).replace(f'workers = "{other.plan}"',
                                 f'workers = "{cpus}"'))
    other.start()
    rc = other.wait_exit(20)
    other.kill()
    where = where.replace(d.conf, other.conf)
    check(rc == EXIT_CONFIG and where in other.log(), f"starting with "
          f"workers {cpus}: exit {rc}, want {EXIT_CONFIG} and {where!r}; "
          f"log:\n{other.log_tail()}")
    say(f"workers = \"{cpus}\": the start exits {rc} with {where}...")
    d.write_config(d.listeners)


def main():
    cpu = min(os.sched_getaffinity(0))
    port = free_port()
    scratch = tempdir()
    d = Daemon([listener("echo", "tcp", port, "echo")], workers=str(cpu))
    d.start().wait_ready()
    test_big_and_many(d, port, scratch)
    test_listeners(scratch, 20000)
    test_cpus(d, port, scratch)
    check(d.stop() == 0, "the daemon did not stop cleanly")
    d.kill()
    say("PASS")


if __name__ == "__main__":
    main()
