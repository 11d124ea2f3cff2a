# SPDX-License-Identifier: BSD-2-Clause
"""What the commands say, and their exit statuses, when they cannot do
what was asked.

doctor exited 1 both for a FAIL and when it could not look at the machine
(a --sysroot without proc/ and sys/, such as the folder of the fixture
trees): now 2 says it could not look.  topology and boot-config gave 71 on
such a --sysroot: now 66, naming the trees one level down.  A status
refused by the socket's permissions exited 69 like a daemon that is not
there: now 77.  "bind 0-1" printed the usage without saying the PID was
missing.  A second daemon on a busy admin socket said "admin socket:
admin socket ... is in use"."""
import sys
sys.dont_write_bytecode = True

import glob
import os
import re
import shutil
import socket
import subprocess

from affinityd_test import (EXIT_OSERR, EXIT_USAGE, Daemon, binary, check,
                            free_port, listener, run, say, srcdir, tempdir)

EXIT_NOINPUT = 66
EXIT_NOPERM = 77
DOCTOR_UNSEEN = 2


def test_sysroot():
    fixtures = os.path.join(srcdir(), "tests", "fixtures", "sysroot")
    empty = tempdir()
    os.mkdir(os.path.join(empty, "proc"))
    os.mkdir(os.path.join(empty, "sys"))
    for root, tree in ((fixtures + "/", True),
                       (os.path.join(empty, "nothing"), False)):
        r = run(["doctor", "--sysroot", root])
        check(r.returncode == DOCTOR_UNSEEN, f"doctor --sysroot {root} "
              f"exited {r.returncode}, not {DOCTOR_UNSEEN} (could not "
              f"look): {r.stderr.strip()!r}")
        if tree:
            check("one level down" in r.stderr,
                  f"doctor --sysroot "
                  f"{root} does not name the trees below: {r.stderr!r}")
        for args in (["topology"], ["boot-config", "--housekeeping-cpus"]):
            r = run(args + ["--sysroot", root])
            check(r.returncode == EXIT_NOINPUT, f"{' '.join(args)} "
                  f"--sysroot {root} exited {r.returncode}, not "
                  f"{EXIT_NOINPUT}: {r.stderr.strip()!r}")
    # proc/ and sys/ with nothing in them: no plan can be read.
    r = run(["doctor", "--sysroot", empty])
    check(r.returncode == DOCTOR_UNSEEN, f"doctor on an empty tree exited "
          f"{r.returncode}, not {DOCTOR_UNSEEN}: {r.stderr.strip()!r}")
    check("no verdict" in r.stderr, f"doctor on an empty tree does not say "
          f"it has no verdict: {r.stderr!r}")
    r = run(["doctor", "--sysroot", os.path.join(fixtures, "mlx5")])
    check(r.returncode in (0, 1), f"doctor on the mlx5 tree exited "
          f"{r.returncode}")
    say("sysroot: doctor 2 when it could not look, topology and "
        "boot-config 66")


def test_bind_missing():
    for args, want in ((["bind", "0-1"], "PID is missing"),
                       (["bind"], "missing")):
        r = run(args)
        check(r.returncode == EXIT_USAGE, f"{' '.join(args)} exited "
              f"{r.returncode}, not {EXIT_USAGE}")
        check(want in r.stderr, f"{' '.join(args)} does not say what is "
              f"missing: {r.stderr!r}")
    say("bind: says what is missing")


def test_status_refused():
    """A socket this user may not connect to (root's, mode 0600): the
    permission refusal exits 77, not 69 as a daemon that is not there."""
    if os.geteuid() != 0:
        say("not root: the permission refusal is not checked")
        return
    d = tempdir()
    os.chmod(d, 0o755)
    exe = os.path.join(d, "affinityd")
    shutil.copy2(binary(), exe)
    os.chmod(exe, 0o755)
    path = os.path.join(d, "admin.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(4)
    os.chmod(path, 0o600)
    uid = 60000 + os.getpid() % 2000

    def as_user():
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    for cmd in (["status"], ["reload"]):
        r = subprocess.run([exe] + cmd + ["-s", path], preexec_fn=as_user,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=30, cwd="/")
        check(r.returncode == EXIT_NOPERM, f"{cmd[0]} refused by the "
              f"socket's permissions exited {r.returncode}, not "
              f"{EXIT_NOPERM}: {r.stderr.strip()!r}")
    srv.close()
    # bind: the kernel refuses to move another user's process.
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        r = subprocess.run([exe, "bind", "0", str(sleeper.pid)],
                           preexec_fn=as_user, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30,
                           cwd="/")
    finally:
        sleeper.kill()
        sleeper.wait()
    check(r.returncode == EXIT_NOPERM, f"bind of root's process as uid "
          f"{uid} exited {r.returncode}, not {EXIT_NOPERM}: "
          f"{r.stderr.strip()!r}")
    check("Operation not permitted" in r.stderr, f"bind does not say the "
          f"move was not permitted: {r.stderr.strip()!r}")
    say("status, reload, bind: a permission refusal exits 77")

    # Root's daemon, whose socket this user may reach: the daemon itself
    # refuses, and its answer's code gives the same exit status.
    daemon = Daemon([listener("echo", "tcp", free_port(), "echo")],
                    workers="0")
    os.chmod(daemon.dir, 0o755)
    daemon.start()
    daemon.wait_ready()
    os.chmod(daemon.sock, 0o666)
    r = subprocess.run([exe, "status", "-s", daemon.sock],
                       preexec_fn=as_user, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30, cwd="/")
    check(r.returncode == EXIT_NOPERM and "permission denied" in r.stderr,
          f"status refused by root's daemon exited {r.returncode}, not "
          f"{EXIT_NOPERM}: {r.stderr.strip()!r}")
    daemon.stop()
    say("status refused by the daemon itself exits 77")


def test_admin_in_use():
    cpu = min(os.sched_getaffinity(0))
    port = free_port()
    d = Daemon([listener("echo", "tcp", port, "echo")], workers=str(cpu))
    d.start().wait_ready()
    other = Daemon([listener("echo", "tcp", free_port(), "echo")],
                   workers=str(cpu))
    other.write_config(other.listeners,
                       other.config_text(other.listeners).replace(
                           other.sock, d.sock))
    r = run(["-c", other.conf], timeout=60)
    check(r.returncode == EXIT_OSERR, f"a second daemon on a busy admin "
          f"socket exited {r.returncode}, not {EXIT_OSERR}")
    lines = [ln for ln in r.stderr.splitlines() if "in use" in ln]
    check(len(lines) == 1 and lines[0].count("admin socket") == 1,
          f"the busy admin socket is not said once: {r.stderr!r}")
    check(d.stop() == 0, "the daemon did not stop cleanly")
    d.kill()
    say(f"admin socket in use: {lines[0]}")


def test_readme_paths():
    """Every path of the tree the README names exists (the fixture trees
    are one level below tests/fixtures/sysroot/)."""
    top = srcdir()
    readme = os.path.join(top, "README.md")
    if not os.path.exists(readme):
        say("no README.md: its paths are not checked")
        return
    text = open(readme).read()
    paths = set(re.findall(r"(?<![\w/.$-])((?:conf|docs|scripts|systemd|"
                           r"tests)/[\w./*-]*[\w/*])", text))
    missing = sorted(p for p in paths
                     if not glob.glob(os.path.join(top, p)))
    check(not missing, f"the README names paths that do not exist: "
          f"{missing}")
    r = run(["doctor", "--sysroot",
             os.path.join(top, "tests", "fixtures", "sysroot", "mlx5")])
    check(r.returncode in (0, 1), f"the README's doctor --sysroot example "
          f"exited {r.returncode}: {r.stderr.strip()!r}")
    d = tempdir()
    conf = os.path.join(d, "hk.conf")
    with open(conf, "w") as f:
        f.write('topology = {\n  workers = "2-15";\n};\n')
    r = run(["boot-config", "--housekeeping-cpus", "-c", conf, "--sysroot",
             os.path.join(top, "tests", "fixtures", "sysroot", "tg3")])
    check(r.returncode == 0 and r.stdout == "0-1\n", f"the README's "
          f"boot-config example on a 16-CPU tree: exit {r.returncode}, "
          f"{r.stdout!r} {r.stderr.strip()!r}")
    say(f"README: {len(paths)} paths exist, its doctor and boot-config "
        f"examples hold")


def main():
    test_readme_paths()
    test_sysroot()
    test_bind_missing()
    test_status_refused()
    test_admin_in_use()
    say("PASS")


if __name__ == "__main__":
    main()
