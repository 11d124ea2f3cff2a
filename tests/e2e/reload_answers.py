# SPDX-License-Identifier: BSD-2-Clause
"""What "affinityd reload --wait" answers, and what the log says.  Under a
storm:  While SIGHUPs keep arriving, 40
concurrent "affinityd reload --wait" (their requests reaching the master
at once) each get the outcome of the
generation that carries its request: every one exits 0 and names a
generation newer than the one serving when it asked, however many wait at
once (requests that share a reload share its outcome).  A reload asked for
while the daemon stops (after SIGTERM, draining a connection) is refused
with its own status, 75 (EX_TEMPFAIL), saying the daemon is stopping, and
so is one that was queued behind a running reload when SIGTERM came.  A
reload whose new workers cannot start (a new listener's port held by
another program) exits 71 with the reason, which the log says once, and
the old workers keep serving."""
import sys
sys.dont_write_bytecode = True

import os
import re
import signal
import socket
import subprocess
import threading
import time

from affinityd_test import (EXIT_OSERR, Daemon, binary, check, fail,
                            free_port, listener, say, tcp_echo, wait_until)

HOST = "127.0.0.1"
CLIENTS = 40
SIGHUPS = 1000
STORM_SEC = 3.0		# the SIGHUPs are spread over this long
CLIENT_TIMEOUT = 90.0
EXIT_TEMPFAIL = 75


def sighup_storm(pid, stop):
    """SIGHUPS signals spread over STORM_SEC, or until STOP is set."""
    for _ in range(SIGHUPS):
        if stop.is_set():
            return
        try:
            os.kill(pid, signal.SIGHUP)
        except ProcessLookupError:
            return
        time.sleep(STORM_SEC / SIGHUPS)


def waiting_on_socket(pid):
    """Whether PID sleeps in a unix socket's connect() or read, i.e. its
    request is in (or at) the admin socket."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().startswith(("unix_wait_for_peer",
                                        "unix_stream_read"))
    except OSError:
        return False


def storm(port):
    d = Daemon([listener("echo", "tcp", port, "echo")]).start().wait_ready()
    before = d.status()["generation"]
    # The requests arrive at once: the master is stopped while the clients
    # connect, and finds them all, with a SIGHUP, when it goes on.
    os.kill(d.pid, signal.SIGSTOP)
    clients = [subprocess.Popen([binary(), "reload", "--wait", "-s", d.sock],
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
               for _ in range(CLIENTS)]
    if not wait_until(lambda: all(waiting_on_socket(c.pid) for c in clients),
                      15.0):
        say("cannot tell from /proc/PID/wchan that every client waits; "
            "going on")
    os.kill(d.pid, signal.SIGHUP)
    os.kill(d.pid, signal.SIGCONT)
    stop = threading.Event()
    hups = threading.Thread(target=sighup_storm, args=(d.pid, stop))
    hups.start()
    results = []
    try:
        for c in clients:
            out, err = c.communicate(timeout=CLIENT_TIMEOUT)
            results.append((c.returncode, out, err))
    except subprocess.TimeoutExpired:
        fail(f"a reload --wait did not finish within {CLIENT_TIMEOUT} s; "
             f"log:\n{d.log_tail()}")
    finally:
        stop.set()
        hups.join()
    failed = [r for r in results if r[0] != 0]
    check(not failed, f"{len(failed)} of {CLIENTS} concurrent reload --wait "
          f"failed, e.g. exit {failed[0][0] if failed else 0}: "
          f"{failed[0][2].strip() if failed else ''}")
    for code, out, err in results:
        m = re.match(r"reloaded: generation (\d+)", out)
        check(m is not None, f"reload --wait printed {out!r}, {err!r}")
        check(int(m.group(1)) > before, f"a reload asked for while "
              f"generation {before} served answered with generation "
              f"{m.group(1)}")
    check(wait_until(lambda: d.all_ready(d.status()), 20.0),
          f"not serving after the storm; log:\n{d.log_tail()}")
    check(tcp_echo(HOST, port, b"after the storm\n") == b"after the storm\n",
          "the echo listener does not answer after the storm")
    check("reload failed" not in d.log(),
          f"a reload failed in the storm; log:\n{d.log_tail()}")
    gens = sorted({int(m.group(1)) for _, out, _ in results
                   for m in [re.match(r"reloaded: generation (\d+)", out)]})
    say(f"{CLIENTS} reload --wait exited 0, answered by generations "
        f"{gens[0]}..{gens[-1]} ({len(gens)} distinct)")
    d.kill()


def reload_while_stopping(port):
    d = Daemon([listener("echo", "tcp", port, "echo")],
               shutdown_timeout=10.0).start().wait_ready()
    # An open connection keeps its worker draining, so the daemon stops
    # for as long as the test needs.
    held = socket.create_connection((HOST, port), timeout=5)
    held.sendall(b"hold\n")
    check(held.recv(64) == b"hold\n", "the held connection gets no echo")
    # A reload queued behind one that runs when SIGTERM comes: an old
    # worker that does not say it stopped accepting holds the running
    # reload in its hand-over, the request waits behind it, and is then
    # answered 75 instead of a closed connection.
    wedged = next(iter(d.workers().values()))["pid"]
    os.kill(wedged, signal.SIGSTOP)
    os.kill(d.pid, signal.SIGHUP)
    check(wait_until(lambda: "reloaded: generation" in d.log(), 15.0),
          f"the reload did not start its generation; log:\n{d.log_tail()}")
    queued = subprocess.Popen([binary(), "reload", "--wait", "-s", d.sock],
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    wait_until(lambda: waiting_on_socket(queued.pid), 15.0)
    d.proc.send_signal(signal.SIGTERM)
    os.kill(wedged, signal.SIGCONT)
    try:
        _, err = queued.communicate(timeout=CLIENT_TIMEOUT)
    except subprocess.TimeoutExpired:
        fail(f"a queued reload --wait did not finish within "
             f"{CLIENT_TIMEOUT} s after SIGTERM; log:\n{d.log_tail()}")
    check(queued.returncode == EXIT_TEMPFAIL, f"a reload queued when the "
          f"daemon stopped exited {queued.returncode} (want "
          f"{EXIT_TEMPFAIL}): {err.strip()}")
    check(wait_until(lambda: "stopping" in d.log(), 10.0),
          f"no stopping line after SIGTERM; log:\n{d.log_tail()}")
    r = d.reload("--wait", "-s", d.sock, timeout=30)
    check(r.returncode == EXIT_TEMPFAIL, f"a reload while stopping exited "
          f"{r.returncode} (want {EXIT_TEMPFAIL}): {r.stderr.strip()}")
    check("stopping" in r.stderr, f"the refusal does not say the daemon is "
          f"stopping: {r.stderr.strip()}")
    say(f"reload while stopping: exit {r.returncode}: {r.stderr.strip()}")
    held.close()
    check(d.wait_exit(20.0) == 0, f"the daemon did not stop with 0; "
          f"log:\n{d.log_tail()}")
    d.kill()


def reload_workers_fail(port):
    d = Daemon([listener("echo", "tcp", port, "echo")]).start().wait_ready()
    before = d.status()["generation"]
    taken = socket.socket()
    taken.bind((HOST, 0))
    taken.listen()
    other = taken.getsockname()[1]
    d.write_config([listener("echo", "tcp", port, "echo"),
                    listener("taken", "tcp", other, "echo")])
    r = d.reload("--wait", timeout=60)
    taken.close()
    check(r.returncode == EXIT_OSERR, f"a reload whose workers cannot bind "
          f"exited {r.returncode} (want {EXIT_OSERR}): {r.stderr.strip()}")
    check("reload failed" in r.stderr and "in use" in r.stderr,
          f"the failed reload does not say why: {r.stderr.strip()}")
    reason = [l for l in d.log().splitlines() if "in use" in l]
    check(len(reason) == 1, f"the reason of the failed reload is logged "
          f"{len(reason)} times, not once:\n" + "\n".join(reason))
    check(d.status()["generation"] == before, "the failed reload changed "
          "the serving generation")
    check(tcp_echo(HOST, port, b"still\n") == b"still\n",
          "the old workers do not serve after the failed reload")
    say(f"failed reload: exit {r.returncode}, logged once: {reason[0]}")
    d.kill()


def main():
    storm(free_port())
    reload_while_stopping(free_port())
    reload_workers_fail(free_port())
    say("PASS")


if __name__ == "__main__":
    main()
