# SPDX-License-Identifier: BSD-2-Clause
"""Integers that do not fit are errors, not truncated.  libconfig 1.5 keeps
the low 32 bits of an integer written without an L suffix, so that
"port = 4294985073" read as port 17777 and "backlog = 4294967297" as 1.
"affinityd -t" on such files exits 78 naming FILE:LINE and the key, and a
running daemon refuses to reload one and keeps serving on its port."""
import sys
sys.dont_write_bytecode = True

import os

from affinityd_test import (EXIT_CONFIG, Daemon, check, free_port, listener,
                            run, say, tempdir)

# (key, the value as written, what libconfig 1.5 made of it)
CASES = (
    ("port", "4294985073", 17777),
    ("backlog", "4294967297", 1),
    ("port", "0x100001F91", 8081),
    ("max_connections", "4294977296", 10000),
    ("shutdown_timeout", "4294967306", 10),
)


def conf_text(key, value, port):
    if key in ("max_connections", "shutdown_timeout"):
        return (f"daemon = {{\n  {key} = {value};\n}};\n"
                f'listeners = ( {{ name = "e"; port = {port}; '
                f'handler = "echo"; }} );\n'), 2
    extra = f" {key} = {value};" if key != "port" else ""
    p = value if key == "port" else port
    return (f"# {key}\nlisteners = (\n  {{ name = \"e\"; port = {p}; "
            f"handler = \"echo\";{extra} }}\n);\n"), 3


def main():
    d = tempdir()
    port = free_port()
    for key, value, was in CASES:
        path = os.path.join(d, f"{key}.conf")
        text, line = conf_text(key, value, port)
        with open(path, "w") as f:
            f.write(text)
        r = run(["-t", "-c", path])
        check(r.returncode == EXIT_CONFIG, f"-t on {key} = {value}: exit "
              f"{r.returncode}, not {EXIT_CONFIG} (libconfig reads it as "
              f"{was}): {r.stderr.strip()}")
        where = f"{path}:{line}: "
        check(where in r.stderr and f".{key}: " in r.stderr and
              f"not {value}" in r.stderr, f"-t on {key} = {value}: no "
              f"{where}...{key}: ... not {value} on stderr: "
              f"{r.stderr.strip()}")
        say(f"{key} = {value} (read as {was} before): -t exits "
            f"{r.returncode}: {r.stderr.strip()}")

    cpu = min(os.sched_getaffinity(0))
    dm = Daemon([listener("echo", "tcp", port, "echo")], workers=str(cpu))
    dm.start().wait_ready()
    before = dm.status()
    text, line = conf_text("backlog", "4294967297", port)
    dm.write_config(dm.listeners, f'daemon = {{ admin_socket = "{dm.sock}"; '
                    f'}};\n' + text)
    r = dm.reload("--wait", "-s", dm.sock)
    check(r.returncode == EXIT_CONFIG and f"{dm.conf}:{line + 1}: " in
          r.stderr and "not 4294967297" in r.stderr, f"reload --wait of "
          f"backlog = 4294967297: exit {r.returncode}: {r.stderr.strip()}")
    dm.unchanged(before, port)
    say(f"reload --wait of backlog = 4294967297: exit {r.returncode}, "
        f"generation {before['generation']} still serving")
    check(dm.stop() == 0, "the daemon did not stop cleanly")
    dm.kill()
    say("PASS")


if __name__ == "__main__":
    main()
