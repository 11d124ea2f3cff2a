# SPDX-License-Identifier: BSD-2-Clause
"""The pid file of "affinityd --daemon": a symlink planted where the pid
file goes is replaced, never followed (the file it pointed to keeps its
bytes), and the file holds the daemon's pid; on a full file system the
start fails with 73 (EX_CANTCREAT), leaves no pid file and no process."""
import sys
sys.dont_write_bytecode = True

import atexit
import os
import signal
import subprocess
import time

from affinityd_test import (Daemon, alive, check, fail, free_port, listener,
                            run, say, tempdir, wait_until)

EXIT_CANTCREAT = 73
VICTIM = b"precious bytes that are not a pid\n"


class PidDaemon(Daemon):
    """A Daemon whose configuration sets daemon.pid_file."""

    def __init__(self, listeners, pid_file, **kw):
        self.pid_file = pid_file
        super().__init__(listeners, **kw)

    def config_text(self, listeners, steering=None):
        text = super().config_text(listeners, steering)
        return text.replace("daemon = {\n", f'daemon = {{\n  pid_file = '
                            f'"{self.pid_file}";\n', 1)


_sessions = []


def _kill_sessions():
    for pid in _sessions:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


atexit.register(_kill_sessions)


def ours(conf):
    """The live processes whose command line names CONF."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if conf.encode() in args and alive(int(name)):
            pids.append(int(name))
    return pids


def start_detached(d):
    """Runs "affinityd --daemon"; returns (exit code, seconds taken)."""
    t0 = time.monotonic()
    r = run(["--daemon", "-c", d.conf], timeout=60)
    return r.returncode, time.monotonic() - t0, r.stderr


def test_symlink():
    tmp = tempdir()
    victim = os.path.join(tmp, "victim")
    with open(victim, "wb") as f:
        f.write(VICTIM)
    pid_file = os.path.join(tmp, "affinityd.pid")
    os.symlink(victim, pid_file)
    d = PidDaemon([listener("echo", "tcp", free_port(), "echo")], pid_file,
                  workers="0")
    code, took, err = start_detached(d)
    pids = ours(d.conf)
    _sessions.extend(pids)
    check(code == 0, f"--daemon exited {code}: {err}")
    with open(victim, "rb") as f:
        kept = f.read()
    say(f"symlink: start exited {code} in {took:.2f} s; the file the link "
        f"pointed to holds {len(kept)} bytes (before: {len(VICTIM)})")
    check(kept == VICTIM, f"the pid file was written through the symlink: "
          f"{victim} now holds {kept!r}")
    check(not os.path.islink(pid_file), "the pid file is still a symlink")
    text = open(pid_file).read()
    check(text.strip().isdigit() and text.endswith("\n"),
          f"pid file holds {text!r}, not a pid and a newline")
    pid = int(text)
    check(pid in pids, f"pid file says {pid}, the daemon's processes are "
          f"{pids}")
    check(os.stat(pid_file).st_mode & 0o777 == 0o644,
          f"pid file mode {os.stat(pid_file).st_mode & 0o777:o}, not 644")
    say(f"symlink: pid file is a regular file holding {pid}")
    leftovers = [n for n in os.listdir(tmp) if n.startswith(".affinityd")]
    check(not leftovers, f"temporary files left beside the pid file: "
          f"{leftovers}")
    os.kill(pid, signal.SIGTERM)
    check(wait_until(lambda: not ours(d.conf), 20),
          f"the daemon did not stop on SIGTERM: {ours(d.conf)}")
    check(not os.path.lexists(pid_file), "the pid file outlived the daemon")
    with open(victim, "rb") as f:
        check(f.read() == VICTIM, "stopping changed the link's target")


def test_full_fs():
    if os.geteuid() != 0:
        say("full file system: SKIPPED (mounting a tmpfs needs root)")
        return
    mnt = tempdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755",
                        "affinityd-e2e", mnt], capture_output=True,
                       text=True)
    if r.returncode != 0:
        say(f"full file system: SKIPPED (mount tmpfs: {r.stderr.strip()})")
        return
    try:
        filled = 0
        try:
            with open(os.path.join(mnt, "fill"), "wb") as f:
                while True:
                    f.write(b"x" * 4096)
                    f.flush()
                    filled += 4096
        except OSError:
            pass
        pid_file = os.path.join(mnt, "affinityd.pid")
        d = PidDaemon([listener("echo", "tcp", free_port(), "echo")],
                      pid_file, workers="0")
        code, took, err = start_detached(d)
        _sessions.extend(ours(d.conf))
        left = wait_until(lambda: not ours(d.conf), 20)
        size = os.path.getsize(pid_file) if os.path.exists(pid_file) else None
        say(f"full file system ({filled} bytes filled): start exited {code} "
            f"in {took:.2f} s; pid file: {'none' if size is None else size}"
            f" bytes; processes left: {len(ours(d.conf))}")
        check(code == EXIT_CANTCREAT, f"--daemon with a pid file on a full "
              f"file system exited {code}, not {EXIT_CANTCREAT}")
        check(left, f"processes left running after the failed start: "
              f"{ours(d.conf)}")
        check(size is None, f"a {size}-byte pid file was left behind")
        check(os.listdir(mnt) == ["fill"], f"files left on the full file "
              f"system: {os.listdir(mnt)}")
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def main():
    test_symlink()
    test_full_fs()
    say("PASS")


if __name__ == "__main__":
    main()
