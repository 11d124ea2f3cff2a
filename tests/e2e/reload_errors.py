# SPDX-License-Identifier: BSD-2-Clause
"""A reload error survives any bytes the file holds.  A listener whose
name is not valid UTF-8 (raw bytes 0xff 0xfe) or holds an escape
character, next to an error, made the error text unencodable as JSON:
"reload --wait" printed "reloaded: generation 0" and exited 0 while the
daemon had refused the file.  Now it exits 78 with the error, the bytes
written as \\xNN, and the same workers keep serving; -t and the log show
the same escaped text."""
import sys
sys.dont_write_bytecode = True

import os

from affinityd_test import (EXIT_CONFIG, Daemon, check, free_port, listener,
                            run, say)

def main():
    cpu = min(os.sched_getaffinity(0))
    port = free_port()
    d = Daemon([listener("echo", "tcp", port, "echo")], workers=str(cpu))
    d.start().wait_ready()
    before = d.status()
    good = d.config_text(d.listeners).encode()
    names = ((b"\xff\xfe", "\\xff\\xfe"), (b"a\x1b[2Jb", "a\\x1b[2Jb"))
    for raw, shown in names:
        bad = good.replace(b"\n);\n", b',\n  { name = "' + raw +
                           b'"; port = 70000; handler = "echo"; }\n);\n')
        check(bad != good, "cannot place the bad listener in the file")
        with open(d.conf, "wb") as f:
            f.write(bad)
        line = bad[:bad.index(raw)].count(b"\n") + 1
        want = (f'{d.conf}:{line}: listeners[1] ("{shown}").port: must be '
                f"from 1 to 65535, not 70000")
        r = d.reload("--wait", "-s", d.sock)
        check(r.returncode == EXIT_CONFIG, f"reload --wait: exit "
              f"{r.returncode}, not {EXIT_CONFIG}: stdout {r.stdout!r}, "
              f"stderr {r.stderr!r}")
        check(want in r.stderr, f"reload --wait: {want!r} not in "
              f"{r.stderr!r}")
        check(want in d.log(), f"the log lacks {want!r}")
        t = run(["-t", "-c", d.conf])
        check(t.returncode == EXIT_CONFIG and want in t.stderr,
              f"-t: exit {t.returncode}: {t.stderr!r}")
        d.unchanged(before, port)
        say(f"name {raw!r}: reload --wait exit {r.returncode}: "
            f"{r.stderr.strip()}")
    check(d.stop() == 0, "the daemon did not stop cleanly")
    d.kill()
    say("PASS")


if __name__ == "__main__":
    main()
