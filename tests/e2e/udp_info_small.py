# SPDX-License-Identifier: BSD-2-Clause
"""UDP info is no reflection amplifier.  An empty datagram was answered
with the 43-byte info line, pid included, so a forged source address got
that much for nothing.  Datagrams shorter than 2 bytes now get no answer
(bounded wait for one), while "x\\n" and "where\\n" still get the line;
the bytes in and out are printed."""
import sys
sys.dont_write_bytecode = True

import os

from affinityd_test import (Daemon, check, free_port, listener, parse_info,
                            say, udp_echo)

HOST = "127.0.0.1"
QUIET = 0.5	# how long a refused datagram's answer is waited for
TRIES = 10	# datagrams that must be answered (loopback may drop one)
SILENT_TRIES = 3	# datagrams that must not be


def main():
    cpu = min(os.sched_getaffinity(0))
    port = free_port()
    d = Daemon([listener("info-udp", "udp", port, "info"),
                listener("echo", "tcp", port, "echo")], workers=str(cpu))
    d.start().wait_ready()
    for payload in (b"", b"x"):
        answers = [udp_echo(HOST, port, payload, QUIET, 1)
                   for _ in range(SILENT_TRIES)]
        got = [a for a in answers if a is not None]
        check(not got, f"{len(payload)}-byte datagram answered with "
              f"{len(got[0]) if got else 0} bytes: {got[:1]!r}")
        say(f"{len(payload)}-byte datagram x{SILENT_TRIES}: 0 bytes back")
    for payload in (b"x\n", b"where\n"):
        line = udp_echo(HOST, port, payload, 2.0, TRIES)
        check(line is not None, f"{payload!r}: no answer in {TRIES} tries")
        parse_info(line, tcp=False)
        say(f"{len(payload)}-byte datagram {payload!r}: {len(line)} bytes "
            f"back: {line!r}")
    check(d.stop() == 0, "the daemon did not stop cleanly")
    d.kill()
    say("PASS")


if __name__ == "__main__":
    main()
