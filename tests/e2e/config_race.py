# SPDX-License-Identifier: BSD-2-Clause
"""The daemon parses the bytes it checked, whatever happens to the names
of its files meanwhile.  The configuration @includes two symbolic links
that a helper process keeps renaming, for a few seconds: one between a
harmless file and a FIFO, the other between a file holding the listener's
port and one holding port = 2**32 + P2, which libconfig alone would cut
to P2 and "affinityd -t" refuses.  The test reloads with "reload --wait"
all the while: each reload must end (0, or 78 naming the FIFO or the
integer), status must answer within a bound after each, and nothing may
ever listen on P2."""
import sys
sys.dont_write_bytecode = True

import os
import socket
import subprocess
import time

from affinityd_test import (EXIT_CONFIG, Daemon, check, fail, free_port,
                            run, say, skip, tcp_echo, tcp_listening,
                            tempdir)

HOST = "127.0.0.1"
FLIP_SECONDS = 6.0	# how long the names are swapped and reloads made
MAX_SECONDS = 40	# at most, waiting for a second kind of outcome
BOUND = 10		# seconds a reload or status may take

# Renames each link in turn between its two targets until killed.
FLIPPER = """
import os, sys
pairs = [(sys.argv[i], sys.argv[i + 1], sys.argv[i + 2])
         for i in range(1, len(sys.argv), 3)]
n = 0
while True:
    for link, a, b in pairs:
        tmp = link + ".tmp"
        os.symlink(a if n % 2 else b, tmp)
        os.rename(tmp, link)
    n += 1
"""


def connects(port):
    """Whether a TCP connection to PORT is accepted (cheaper than reading
    /proc/net/tcp on a busy host)."""
    with socket.socket() as s:
        s.settimeout(2.0)
        return s.connect_ex((HOST, port)) == 0


def flip_link(link, target):
    tmp = link + ".tmp"
    if os.path.lexists(tmp):	# the flipper was killed between the two
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.rename(tmp, link)


def main():
    cpu = min(os.sched_getaffinity(0))
    port, cut = free_port(), free_port()
    if cut == port or tcp_listening(cut):
        skip(f"port {cut} is taken")
    big = 2 ** 32 + cut
    scratch = tempdir()
    files = {
        "harmless.conf": "# nothing to add\n",
        "port-good.conf": f"port = {port};\n",
        "port-big.conf": f"port = {big};\n",
    }
    for name, text in files.items():
        with open(os.path.join(scratch, name), "w") as f:
            f.write(text)
    harmless = os.path.join(scratch, "harmless.conf")
    fifo = os.path.join(scratch, "fifo.conf")
    os.mkfifo(fifo)
    extra = os.path.join(scratch, "extra.conf")
    port_link = os.path.join(scratch, "port.conf")
    flip_link(extra, harmless)
    flip_link(port_link, os.path.join(scratch, "port-good.conf"))

    d = Daemon([], workers=str(cpu))
    d.listeners = [{"name": "echo", "protocol": "tcp", "address": HOST,
                    "port": port, "handler": "echo"}]
    text = d.config_text([]).replace(
        "listeners = (\n\n);",
        "listeners = (\n  { name = \"echo\"; protocol = \"tcp\"; "
        f"address = \"{HOST}\"; handler = \"echo\";\n"
        f"@include \"{port_link}\"\n  }}\n);\n@include \"{extra}\"")
    check("@include" in text, "the configuration was not built")
    d.write_config(d.listeners, text)

    r = run(["-t", "-c", d.conf])
    check(r.returncode == 0, f"-t of the good file: exit {r.returncode}: "
          f"{r.stderr.strip()}")
    flip_link(port_link, os.path.join(scratch, "port-big.conf"))
    r = run(["-t", "-c", d.conf])
    check(r.returncode == EXIT_CONFIG and str(big) in r.stderr,
          f"-t of port {big}: exit {r.returncode}: {r.stderr.strip()}")
    flip_link(port_link, os.path.join(scratch, "port-good.conf"))

    d.start().wait_ready()
    flipper = subprocess.Popen(
        [sys.executable, "-c", FLIPPER,
         extra, harmless, fifo,
         port_link, os.path.join(scratch, "port-good.conf"),
         os.path.join(scratch, "port-big.conf")])
    outcomes = {}
    try:
        t0 = time.monotonic()
        # A few seconds, and on past them until two outcomes were seen.
        while (time.monotonic() < t0 + FLIP_SECONDS or
               len(outcomes) < 2) and time.monotonic() < t0 + MAX_SECONDS:
            r = run(["reload", "--wait", "-s", d.sock], timeout=BOUND)
            why = r.stderr.strip()
            if r.returncode == 0:
                kind = "reloaded"
            elif r.returncode == EXIT_CONFIG and "is a FIFO" in why:
                kind = "FIFO refused"
            elif r.returncode == EXIT_CONFIG and str(big) in why:
                kind = f"{big} refused"
            else:
                fail(f"reload --wait: exit {r.returncode}: {why}")
            outcomes[kind] = outcomes.get(kind, 0) + 1
            asked = time.monotonic()
            if d.status() is None:
                fail(f"status does not answer; log:\n{d.log_tail()}")
            check(time.monotonic() - asked < BOUND, "status took too long")
            check(not connects(cut), f"something listens on port {cut}, "
                  f"the cut value of {big}; log:\n{d.log_tail()}")
    finally:
        flipper.kill()
        flipper.wait()
    say(f"{sum(outcomes.values())} reloads in {time.monotonic() - t0:.1f} s "
        f"while the links flipped: {outcomes}")
    check(len(outcomes) > 1, f"the flips made no difference: {outcomes}")

    flip_link(extra, harmless)
    flip_link(port_link, os.path.join(scratch, "port-good.conf"))
    r = run(["reload", "--wait", "-s", d.sock], timeout=BOUND)
    check(r.returncode == 0, f"the last reload: exit {r.returncode}: "
          f"{r.stderr.strip()}")
    check(tcp_echo(HOST, port, b"ping\n") == b"ping\n",
          f"echo on port {port} does not answer")
    check(d.stop() == 0, "the daemon did not stop cleanly")
    d.kill()
    say("PASS")


if __name__ == "__main__":
    main()
