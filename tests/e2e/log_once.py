# SPDX-License-Identifier: BSD-2-Clause
"""A topology fact is logged when it appears, not at every rescan.

The daemon serves lo with the default worker plan ("rx-queues": lo has no
queue IRQs, so one worker per allowed CPU, which the master notes at info)
and topology.rescan_interval = 0.2 s.  After a dozen rescans its log holds
no line twice.  The commands print what they were asked for:
"affinityd topology -c FILE" and "affinityd doctor --json" (with the file,
and with the defaults) write nothing on stderr."""
import sys
sys.dont_write_bytecode = True

import collections
import json
import time

from affinityd_test import (Daemon, check, fail, free_port, listener, run,
                            say)

RESCAN = 0.2		# topology.rescan_interval
RESCANS = 12		# how many rescans the log must hold out through


def repeated_lines(log):
    """The lines of LOG that appear more than once, with their counts."""
    counts = collections.Counter(line for line in log.splitlines()
                                 if line.strip())
    return {line: n for line, n in counts.items() if n > 1}


def check_quiet(args, codes=(0,)):
    """Runs "affinityd ARGS": it must exit with one of CODES and write
    nothing on stderr; returns its standard output."""
    r = run(args)
    check(r.returncode in codes, f"affinityd {' '.join(args)} exited with "
          f"{r.returncode}; stderr:\n{r.stderr}")
    check(r.stderr == "", f"affinityd {' '.join(args)} wrote on stderr "
          f"what it was not asked for:\n{r.stderr}")
    return r.stdout


def main():
    port = free_port()
    d = Daemon([listener("echo", "tcp", port, "echo")], workers="rx-queues",
               rescan_interval=RESCAN).start().wait_ready()
    try:
        # A dozen rescans; the daemon must still be serving after them.
        deadline = time.monotonic() + RESCANS * RESCAN
        while time.monotonic() < deadline:
            check(d.proc.poll() is None, f"affinityd exited with "
                  f"{d.proc.returncode}; log:\n{d.log_tail()}")
            time.sleep(RESCAN / 2)
        d.wait_ready()
        log = d.log()
        check("lo: no per-queue IRQs and no RPS" in log, "the master did "
              f"not log lo's fallback plan once; log:\n{log}")
        again = repeated_lines(log)
        if again:
            fail(f"after {RESCANS} rescans of {RESCAN} s the log repeats "
                 "itself:\n" + "\n".join(f"{n}x {line}" for line, n in
                                         again.items()) + f"\nlog:\n{log}")
        say(f"{RESCANS} rescans: {len(log.splitlines())} log lines, "
            "none twice")

        out = check_quiet(["topology", "-c", d.conf])
        check("lo" in out, f"affinityd topology -c does not show lo:\n{out}")
        for args in (["doctor", "--json", "-c", d.conf], ["doctor",
                                                          "--json"]):
            # 1: a check FAILs on this host, which the report says.
            out = check_quiet(args, (0, 1))
            try:
                json.loads(out)
            except ValueError:
                fail(f"affinityd {' '.join(args)} is not JSON:\n{out}")
        say("topology and doctor --json: nothing on stderr")
    finally:
        d.kill()


if __name__ == "__main__":
    main()
