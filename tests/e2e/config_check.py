# SPDX-License-Identifier: BSD-2-Clause
"""-t checks what the start checks, and says it all at once.

A daemon.user that does not exist passed -t, then the start failed with
78 and no FILE:LINE, and a reload took it with only "changes only on
restart".  Now -t, the start and a reload refuse it with FILE:LINE (the
reload leaving the workers serving).  A file with a syntax-valid error
and a worker CPU this host lacks got the second error only once the
first was fixed; an interface that does not exist passed -t and failed
the start with 71.  Now -t reports them all in one run."""
import sys
sys.dont_write_bytecode = True

import os
import pwd

from affinityd_test import (EXIT_CONFIG, Daemon, check, free_port, listener,
                            run, say, tempdir)


def absent_user():
    for i in range(100):
        name = f"affinityd-absent{i}"
        try:
            pwd.getpwnam(name)
        except KeyError:
            return name
    return None


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def test_user_at_check_and_start(user):
    d = tempdir()
    conf = write(os.path.join(d, "user.conf"), f"""daemon = {{
  admin_socket = "{d}/admin.sock";
  user = "{user}";
}};
""")
    want = f'{conf}:3: daemon.user: no such user "{user}"'
    r = run(["-t", "-c", conf])
    check(r.returncode == EXIT_CONFIG, f"-t with daemon.user {user!r} (no "
          f"such user) exited {r.returncode}, not {EXIT_CONFIG}: "
          f"{r.stderr!r}")
    check(want in r.stderr, f"-t: {want!r} not in {r.stderr!r}")
    r = run(["-c", conf], timeout=30)
    check(r.returncode == EXIT_CONFIG, f"the start with an absent "
          f"daemon.user exited {r.returncode}, not {EXIT_CONFIG}")
    check(want in r.stderr, f"the start: {want!r} not in {r.stderr!r}")
    say(f"-t and start: {want}")


def test_user_at_reload(user):
    cpu = min(os.sched_getaffinity(0))
    port = free_port()
    d = Daemon([listener("echo", "tcp", port, "echo")], workers=str(cpu))
    d.start().wait_ready()
    before = d.status()
    text = d.config_text(d.listeners).replace(
        "daemon = {\n", f'daemon = {{\n  user = "{user}";\n', 1)
    d.write_config(d.listeners, text)
    want = f'{d.conf}:2: daemon.user: no such user "{user}"'
    r = d.reload("--wait")
    check(r.returncode == EXIT_CONFIG, f"reload --wait with an absent "
          f"daemon.user exited {r.returncode}, not {EXIT_CONFIG}: "
          f"{r.stdout!r} {r.stderr!r}")
    check(want in r.stderr, f"reload --wait: {want!r} not in {r.stderr!r}")
    check(want in d.log(), f"the log lacks {want!r}")
    d.unchanged(before, port)
    check(d.stop() == 0, "the daemon did not stop cleanly")
    d.kill()
    say(f"reload: {want}")


def test_every_error_at_once():
    d = tempdir()
    last = max(os.sched_getaffinity(0))
    conf = write(os.path.join(d, "many.conf"), f"""daemon = {{
  admin_socket = "{d}/admin.sock";
  max_connections = 0;
}};
topology = {{
  workers = "{last + 4096}";
}};
""")
    r = run(["-t", "-c", conf])
    check(r.returncode == EXIT_CONFIG, f"-t exited {r.returncode}")
    for want in (f"{conf}:3: daemon.max_connections",
                 f"{conf}:6: topology.workers: none of CPUs"):
        check(want in r.stderr, f"-t does not report {want!r} beside the "
              f"other error: {r.stderr!r}")
    iface = write(os.path.join(d, "iface.conf"), f"""daemon = {{
  admin_socket = "{d}/admin.sock";
}};
topology = {{
  interfaces = ["nosuch0"];
}};
""")
    r = run(["-t", "-c", iface])
    check(r.returncode == EXIT_CONFIG, f"-t with an interface that does "
          f"not exist exited {r.returncode}, not {EXIT_CONFIG}: "
          f"{r.stderr!r}")
    check("nosuch0" in r.stderr and "no worker plan" in r.stderr,
          f"-t does not say why there is no plan: {r.stderr!r}")
    # The plan's error comes with the file's, not once those are fixed.
    both = write(os.path.join(d, "both.conf"), f"""daemon = {{
  admin_socket = "{d}/admin.sock";
  max_connections = 0;
}};
topology = {{
  interfaces = ["nosuch0"];
}};
""")
    r = run(["-t", "-c", both])
    check(r.returncode == EXIT_CONFIG, f"-t exited {r.returncode}")
    for want in (f"{both}:3: daemon.max_connections", "no worker plan"):
        check(want in r.stderr, f"-t does not report {want!r} beside the "
              f"other error: {r.stderr!r}")
    say("-t: the file's, the host's and the plan's errors in one run")


def main():
    test_every_error_at_once()
    user = absent_user()
    if user is None:
        say("every test user name exists here: user checks not run")
        return
    test_user_at_check_and_start(user)
    test_user_at_reload(user)
    say("PASS")


if __name__ == "__main__":
    main()
