# SPDX-License-Identifier: BSD-2-Clause
"""scripts/run says where the binary is and how to try the daemon.

After "scripts/run" the README's "affinityd status" was not on the PATH,
and the script hid its build.  Now it prints, before the daemon starts,
the binary's path, a status command with that path that answers, a curl
check, and that Ctrl-C stops it; Ctrl-C then stops it with exit 0.  (The
build itself is skipped here: the test runs the binary under test.)"""
import sys
sys.dont_write_bytecode = True

import os
import re
import shlex
import signal
import subprocess

from affinityd_test import (Daemon, binary, check, fail, free_port, listener,
                            say, skip, srcdir, wait_until)


def main():
    script = os.path.join(srcdir(), "scripts", "run")
    if not os.access(script, os.X_OK):
        skip(f"no {script} (not in a distribution tarball)")
    exe = binary()
    if os.path.basename(os.path.dirname(exe)) != "daemon":
        skip(f"{exe} is not BUILD_DIR/daemon/affinityd")
    cpu = min(os.sched_getaffinity(0))
    port = free_port()
    d = Daemon([listener("echo", "tcp", port, "echo")], workers=str(cpu))
    out = os.path.join(d.dir, "run.err")
    env = dict(os.environ, AFFINITYD_RUN_BUILD="0",
               BUILD_DIR=os.path.dirname(os.path.dirname(exe)))
    with open(out, "w") as err:
        proc = subprocess.Popen([script, "-c", d.conf], env=env,
                                stdin=subprocess.DEVNULL, stdout=err,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        def banner():
            text = open(out, errors="replace").read()
            return text if "Ctrl-C" in text and "status" in text else None
        text = wait_until(banner, 20, 0.1)
        check(text, f"scripts/run printed no banner: "
              f"{open(out, errors='replace').read()[-800:]!r}")
        check(exe in text, f"the banner does not say where the binary is "
              f"({exe}): {text!r}")
        check(re.search(r"^\s*curl 127\.0\.0\.1:8080", text, re.M),
              f"the banner shows no curl check: {text!r}")
        m = re.search(r"^\s*(\S+ status\b.*)$", text, re.M)
        check(m, f"the banner shows no status command: {text!r}")
        cmd = shlex.split(m.group(1))
        check(os.path.isabs(cmd[0]) and os.path.samefile(cmd[0], exe),
              f"the status command does not use the binary's path: {cmd}")

        def answers():
            if proc.poll() is not None:
                fail(f"scripts/run exited {proc.returncode}: "
                     f"{open(out, errors='replace').read()[-800:]}")
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=15)
            return r if r.returncode == 0 else None
        r = wait_until(answers, 20, 0.2)
        check(r, f"the banner's status command {cmd} does not answer")
        say(f"scripts/run: {m.group(1)} answers")
        os.killpg(proc.pid, signal.SIGINT)
        rc = proc.wait(15)
        check(rc == 0, f"Ctrl-C (SIGINT) ended scripts/run with {rc}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    say("PASS")


if __name__ == "__main__":
    main()
