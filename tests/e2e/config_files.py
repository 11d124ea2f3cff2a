# SPDX-License-Identifier: BSD-2-Clause
"""A configuration that is not a plain file never ends or blocks the
daemon.  A running daemon is reloaded (by SIGHUP and by "reload --wait")
with a file that @includes a directory, one that @includes a FIFO, and
with the file itself replaced by a FIFO: each reload is refused with
FILE:LINE (exit 78), the same workers keep serving, and status keeps
answering.  "affinityd -t" and "affinityd reload -c" on those files exit
78 with the same error instead of exiting 2 or blocking.  A valid file
then reloads as usual."""
import sys
sys.dont_write_bytecode = True

import os
import signal

from affinityd_test import (EXIT_CONFIG, Daemon, check, fail, free_port,
                            listener, run, say, tcp_echo, tempdir,
                            wait_until)

HOST = "127.0.0.1"
RELOAD_TIMEOUT = 20	# a blocked master would never answer


def refused(what, r, where):
    check(r.returncode == EXIT_CONFIG, f"{what}: exit {r.returncode}, not "
          f"{EXIT_CONFIG}: {r.stdout.strip()} {r.stderr.strip()}")
    check(where in r.stderr, f"{what}: {where!r} not on stderr: "
          f"{r.stderr.strip()!r}")


def bad_reloads(d, port, before, where, sighup=True):
    """SIGHUP, reload --wait over the socket, reload -c, -t: all refuse."""
    if sighup:
        mark = len(d.log())
        d.proc.send_signal(signal.SIGHUP)
        if not wait_until(lambda: where in d.log()[mark:] or
                          d.proc.poll() is not None, 10.0):
            fail(f"SIGHUP: no {where!r} in the log:\n{d.log_tail()}")
        d.unchanged(before, port)
    r = d.reload("--wait", "-s", d.sock, timeout=RELOAD_TIMEOUT)
    refused("reload --wait -s", r, where)
    d.unchanged(before, port)
    r = d.reload("--wait", timeout=RELOAD_TIMEOUT)
    refused("reload --wait -c", r, where)
    r = run(["-t", "-c", d.conf], timeout=RELOAD_TIMEOUT)
    refused("-t", r, where)
    d.unchanged(before, port)
    say(f"  refused with exit {EXIT_CONFIG} ({where}); workers "
        f"{[w['pid'] for w in before['workers']]} of generation "
        f"{before['generation']} still serving")


def main():
    cpu = min(os.sched_getaffinity(0))
    port = free_port()
    scratch = tempdir()
    d = Daemon([listener("echo", "tcp", port, "echo")], workers=str(cpu))
    good = d.config_text(d.listeners)
    d.write_config(d.listeners)
    d.start().wait_ready()
    before = d.status()
    lines = good.count("\n")

    say("an @include of a directory:")
    d.write_config(d.listeners, good + f'@include "{scratch}"\n')
    bad_reloads(d, port, before, f"{d.conf}:{lines + 1}: @include "
                f'"{scratch}": is a directory, not a regular file')

    say("an @include of a FIFO:")
    fifo = os.path.join(scratch, "fifo.conf")
    os.mkfifo(fifo)
    d.write_config(d.listeners, good + f'\n  @include "{fifo}"\n')
    bad_reloads(d, port, before, f"{d.conf}:{lines + 2}: @include "
                f'"{fifo}": is a FIFO, not a regular file')

    say("an @include of a FIFO two files deep:")
    inner = os.path.join(scratch, "inner.conf")
    with open(inner, "w") as f:
        f.write(f'# nothing\n@include "{fifo}"\n')
    d.write_config(d.listeners, good + f'@include "{inner}"\n')
    bad_reloads(d, port, before, f"{inner}:2: @include \"{fifo}\": is a "
                f"FIFO, not a regular file", sighup=False)

    say("the configuration itself a FIFO:")
    os.unlink(d.conf)
    os.mkfifo(d.conf)
    bad_reloads(d, port, before, f"{d.conf}: is a FIFO, not a regular file")

    os.unlink(d.conf)
    d.write_config(d.listeners)
    r = d.reload("--wait", timeout=60)
    check(r.returncode == 0, f"reload of the good file: exit {r.returncode}: "
          f"{r.stderr.strip()}")
    gen = d.status()["generation"]
    check(gen > before["generation"], f"the good reload did not start a "
          f"new generation: {before['generation']} -> {gen}")
    check(tcp_echo(HOST, port, b"ping\n") == b"ping\n",
          "echo does not answer after the good reload")
    say(f"a good file then reloads: generation {before['generation']} -> "
        f"{gen}")
    check(d.stop() == 0, "the daemon did not stop cleanly")
    d.kill()
    say("PASS")


if __name__ == "__main__":
    main()
