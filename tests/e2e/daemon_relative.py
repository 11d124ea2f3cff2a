# SPDX-License-Identifier: BSD-2-Clause
"""'affinityd --daemon -c d.conf', a path relative to the directory it is
started from: the daemon changes to "/", yet "reload --wait" reads the
same file and applies it (a second listener answers), and so does
SIGHUP.  The file holds only '@include "body.conf"', a path relative to
that directory too: a reload reads the same file as the start did, not
/body.conf."""
import sys
sys.dont_write_bytecode = True

import atexit
import os
import signal
import subprocess

from affinityd_test import (Daemon, alive, binary, check, fail, free_port,
                            listener, say, tcp_echo, wait_until)

HOST = "127.0.0.1"
BOUND = 30


def affinityd(args, cwd):
    try:
        return subprocess.run([binary()] + args, cwd=cwd, text=True,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=BOUND)
    except subprocess.TimeoutExpired:
        fail(f"affinityd {' '.join(args)} did not finish within {BOUND} s")


def stop(pid):
    if alive(pid):
        os.kill(pid, signal.SIGTERM)
        if not wait_until(lambda: not alive(pid), 20):
            os.kill(pid, signal.SIGKILL)


def main():
    cpu = min(os.sched_getaffinity(0))
    port, port2 = free_port(), free_port()
    d = Daemon([listener("echo", "tcp", port, "echo")], workers=str(cpu))
    pid_file = os.path.join(d.dir, "affinityd.pid")

    def write(listeners):
        with open(os.path.join(d.dir, "body.conf"), "w") as f:
            f.write(d.config_text(listeners).replace(
                "daemon = {\n",
                f'daemon = {{\n  pid_file = "{pid_file}";\n', 1))
        d.write_config(listeners, '@include "body.conf"\n')

    write(d.listeners)
    name = os.path.basename(d.conf)
    r = affinityd(["--daemon", "-c", name], d.dir)
    check(r.returncode == 0, f"--daemon -c {name}: exit {r.returncode}: "
          f"{r.stderr.strip()}")
    pid = int(open(pid_file).read())
    atexit.register(stop, pid)
    check(wait_until(lambda: tcp_echo(HOST, port, b"a\n") == b"a\n", 20),
          f"echo on port {port} does not answer")
    say(f"started from {d.dir} with -c {name}: pid {pid}")

    write([listener("echo", "tcp", port, "echo"),
           listener("echo2", "tcp", port2, "echo")])
    r = affinityd(["reload", "--wait", "-s", d.sock], "/")
    check(r.returncode == 0, f"reload --wait: exit {r.returncode}: "
          f"{r.stderr.strip()}")
    check(tcp_echo(HOST, port2, b"b\n") == b"b\n",
          f"the reloaded listener on port {port2} does not answer")
    say(f"reload --wait: exit 0, port {port2} answers")

    os.kill(pid, signal.SIGHUP)
    check(wait_until(lambda: alive(pid) and
                     tcp_echo(HOST, port2, b"c\n") == b"c\n", 10),
          "the daemon does not serve after SIGHUP")
    stop(pid)
    check(not alive(pid), f"the daemon {pid} did not stop on SIGTERM")
    say("PASS")


if __name__ == "__main__":
    main()
