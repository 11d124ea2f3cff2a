# SPDX-License-Identifier: BSD-2-Clause
"""A --sysroot whose files are FIFOs never blocks a command.  In a copy of
a fixture host, proc/interrupts, sys/devices/system/cpu/online, every
rx-N/rps_cpus and every IRQ's effective_affinity_list in turn become
FIFOs (no writer ever opens them): "topology", "doctor" and "boot-config"
each end within a bound, naming the file and saying it is not a regular
file."""
import sys
sys.dont_write_bytecode = True

import os
import shutil
import time

from affinityd_test import check, run, say, srcdir, tempdir

BOUND = 20	# seconds; a command blocked in open() or read() never ends
FILES = ["proc/interrupts", "sys/devices/system/cpu/online", "rps_cpus",
         "effective_affinity_list"]
COMMANDS = [["topology"], ["doctor"], ["boot-config"]]


def fifo_host(fixture, name):
    """A copy of FIXTURE with NAME (a path, or a file name wherever it
    appears) made a FIFO; returns the root and the FIFOs' paths."""
    root = os.path.join(tempdir(), "root")
    shutil.copytree(fixture, root, symlinks=True)
    if "/" in name:
        paths = [os.path.join(root, name)]
    else:
        paths = [os.path.join(d, name) for d, _, files in os.walk(root)
                 if name in files]
    check(paths, f"{name} is not in {fixture}")
    for p in paths:
        os.unlink(p)
        os.mkfifo(p)
    return root, paths


def main():
    fixture = os.path.join(srcdir(), "tests", "fixtures", "sysroot", "mlx5")
    for name in FILES:
        root, fifos = fifo_host(fixture, name)
        for cmd in COMMANDS:
            t0 = time.monotonic()
            r = run(cmd + ["--sysroot", root], timeout=BOUND)
            took = time.monotonic() - t0
            out = r.stdout + r.stderr
            named = [p for p in fifos if p in out]
            check(named, f"{cmd[0]} with {name} a FIFO: exit "
                  f"{r.returncode} in {took:.1f} s, no FIFO named:\n"
                  f"{out[-1500:]}")
            check("not a regular file" in out, f"{cmd[0]} with {name} a "
                  f"FIFO does not say it is not a regular file:\n"
                  f"{out[-1500:]}")
            line = next(l for l in out.splitlines() if named[0] in l)
            say(f"{cmd[0]}, {name} a FIFO: exit {r.returncode} in "
                f"{took:.1f} s: {line.strip()[:160]}")
    say("PASS")


if __name__ == "__main__":
    main()
