# SPDX-License-Identifier: BSD-2-Clause
"""What the text commands print from elsewhere cannot command the
terminal.  Interface names may hold ESC and BEL (the kernel refuses only
'/', ':' and whitespace): in a network namespace with a veth pair named
like an OSC title sequence and a CSI clear-screen, "topology" and "doctor"
printed those bytes raw on stdout and in their warnings on stderr.  A
server on the admin socket (here a fake one of our own user, which status
trusts) had its steering reason, queue names and other strings printed
raw by "status", and its error text by "status" and "reload".  Now no
output holds a control byte but newline and tab, C1 included, and the
names show as \\xNN."""
import sys
sys.dont_write_bytecode = True

import atexit
import json
import os
import socket
import subprocess
import threading

from affinityd_test import check, run, say, skip, tempdir

NS = f"affd-esc-{os.getpid()}"
# An OSC that sets the window title, a CSI that clears the screen, and
# the same CSI as the one C1 character U+009B.
NAMES = [b"e\x1b]0;t\x07", b"f\x1b[2J", b"g\xc2\x9b2J"]
HOSTILE = "x\x1b]0;owned\x07\x1b[2J\u009b31m"
STATUS = {
    "generation": 1, "steering": "cbpf" + HOSTILE,
    "steering_config": "auto" + HOSTILE,
    "steering_reason": "because" + HOSTILE,
    "fallback_cpus": "1" + HOSTILE, "udp_locality": "n/a" + HOSTILE,
    "workers": [{"id": 0, "pid": 1, "cpu": 0, "local": 1, "remote": 0,
                 "queues": ["eth0" + HOSTILE + ":rx-0"],
                 "heartbeat_age_ms": 5}],
}


def raw_controls(text):
    """The control characters in TEXT other than newline and tab."""
    return sorted({f"U+{ord(c):04X}" for c in text
                   if (ord(c) < 0x20 and c not in "\n\t") or
                   0x7f <= ord(c) <= 0x9f})


def ip(*args):
    return subprocess.run(["ip"] + list(args), capture_output=True)


def make_namespace():
    r = ip("netns", "add", NS)
    if r.returncode != 0:
        skip(f"ip netns add failed: {r.stderr.decode(errors='replace')}")
    atexit.register(ip, "netns", "del", NS)
    r = ip("-n", NS, "link", "add", NAMES[0], "type", "veth", "peer",
           "name", NAMES[1])
    if r.returncode != 0:
        skip(f"no veth pair here: {r.stderr.decode(errors='replace')}")
    r = ip("-n", NS, "link", "add", NAMES[2], "type", "veth", "peer",
           "name", "h")
    check(r.returncode == 0, f"ip link add {NAMES[2]!r}: "
          f"{r.stderr.decode(errors='replace')}")


def check_printable(what, r):
    for stream, text in (("stdout", r.stdout), ("stderr", r.stderr)):
        bad = raw_controls(text)
        check(not bad, f"{what}: {stream} holds raw control characters "
              f"{bad}:\n{text[-1500:]!r}")


class FakeServer(threading.Thread):
    """Answers every admin request on PATH with ANSWER."""

    def __init__(self, path, answer):
        super().__init__(daemon=True)
        self.answer = (json.dumps(answer) + "\n").encode()
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(8)

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                try:
                    c.recv(256)
                    c.sendall(self.answer)
                except OSError:
                    pass


def main():
    if os.geteuid() != 0:
        skip("needs root to make a network namespace and its interfaces")
    make_namespace()
    for args in (["topology"], ["doctor"]):
        r = run(args, netns=NS)
        say(f"{args[0]} in the namespace: exit {r.returncode}, "
            f"{len(r.stdout)} + {len(r.stderr)} bytes")
        check(r.returncode in (0, 1), f"{args[0]} exited {r.returncode}: "
              f"{r.stderr[-800:]}")
        check_printable(args[0], r)
        check("\\x1b]0;t\\x07" in r.stdout and "\\xc2\\x9b" in r.stdout,
              f"{args[0]} does not show the names escaped:\n{r.stdout}")

    d = tempdir()
    fakes = [FakeServer(os.path.join(d, "status.sock"), STATUS),
             FakeServer(os.path.join(d, "error.sock"),
                        {"error": "refused" + HOSTILE})]
    for f in fakes:
        f.start()
    r = run(["status", "-s", os.path.join(d, "status.sock")])
    say(f"status of a hostile server: exit {r.returncode}")
    check(r.returncode == 0, f"status failed: {r.stderr}")
    check_printable("status", r)
    check("because" in r.stdout and "\\x1b" in r.stdout,
          f"status does not show the server's strings escaped:\n{r.stdout}")
    for cmd in ("status", "reload"):
        r = run([cmd, "-s", os.path.join(d, "error.sock")])
        say(f"{cmd} answered a hostile error: exit {r.returncode}: "
            f"{r.stderr.strip()!r}")
        check(r.returncode != 0 and "refused" in r.stderr,
              f"{cmd} did not report the server's error: {r.stderr}")
        check_printable(f"{cmd} with an error", r)
    for f in fakes:
        f.sock.close()
    say("PASS")


if __name__ == "__main__":
    main()
