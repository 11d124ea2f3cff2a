# SPDX-License-Identifier: BSD-2-Clause
"""Another user cannot stand in for the daemon on its admin socket.  A
daemon run by user A without XDG_RUNTIME_DIR keeps its default socket in
a directory of its own, /tmp/affinityd-A/ (mode 0700), never in /tmp
itself.  When user B got there first (B's directory, B's fake server
answering every command), the daemon refuses to start naming the
directory and its owner, and "affinityd reload --wait" run by A refuses
to believe B's server, nor does root.  Once the squat is gone the daemon
starts, makes the directory itself, answers A and root (A owns the
directory), and refuses B (SO_PEERCRED).  Nor may B's symbolic link stand
in for A's directory: pointed at a sticky directory of root's, the daemon
refuses to put its socket through it, naming the link; pointed at B's own
directory holding B's server, root's status refuses the link instead of
trusting B as the directory's owner."""
import sys
sys.dont_write_bytecode = True

import atexit
import os
import shutil
import signal
import subprocess
import time

from affinityd_test import (EXIT_OSERR, binary, check, fail, free_port, run,
                            sanitizer_report, say, skip, tempdir, wait_until)

UID_A = 60000 + os.getpid() % 2000
UID_B = UID_A + 3000
FAKE_SERVER = r"""
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
os.chmod(path, 0o777)
s.listen(16)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    try:
        c.recv(256)
        c.sendall(b'{"reloaded": true, "generation": 99}\n')
    except OSError:
        pass
    c.close()
"""
RAW_CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
try:
    s.sendall(b"status\n")
except OSError:
    pass            # refused already: read what it said
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except ConnectionResetError:
    pass
print(data.decode(errors="replace").strip())
"""

_procs = []
PYTHON = None
BINARY = None


def reachable_binary():
    """A copy of the binary under test that other users can run: the
    build tree may sit in a directory only root may enter (a home
    directory), which the test's users could not reach."""
    d = tempdir()
    os.chmod(d, 0o755)
    path = os.path.join(d, "affinityd")
    shutil.copy2(binary(), path)
    os.chmod(path, 0o755)
    return path


def runs_as(uid, python):
    try:
        return subprocess.run([python, "-c", ""], preexec_fn=as_user(uid),
                              capture_output=True).returncode == 0
    except OSError:
        return False


def _cleanup():
    for p in _procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait()
    for uid in (UID_A,):
        if os.path.islink(f"/tmp/affinityd-{uid}"):
            os.unlink(f"/tmp/affinityd-{uid}")
        shutil.rmtree(f"/tmp/affinityd-{uid}", ignore_errors=True)
        try:
            os.unlink(f"/tmp/affinityd-{uid}.sock")
        except OSError:
            pass


atexit.register(_cleanup)


def as_user(uid):
    def switch():
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    return switch


def env():
    e = dict(os.environ)
    e.pop("XDG_RUNTIME_DIR", None)
    e["HOME"] = "/"
    return e


def run_as(uid, args, timeout=30):
    try:
        r = subprocess.run([BINARY] + args, preexec_fn=as_user(uid),
                           env=env(), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"affinityd {' '.join(args)} as uid {uid} did not finish")
    report = sanitizer_report(r.stderr)
    if report:
        fail(f"sanitizer report:\n{report}")
    return r


def start_as(uid, conf, log):
    p = subprocess.Popen([BINARY, "-c", conf], preexec_fn=as_user(uid),
                         env=env(), stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    _procs.append(p)
    return p


def squat(uid, path):
    """B's fake server on PATH, running as B."""
    p = subprocess.Popen([PYTHON, "-c", FAKE_SERVER, path],
                         preexec_fn=as_user(uid), stdout=subprocess.PIPE,
                         text=True, start_new_session=True)
    _procs.append(p)
    check(p.stdout.readline().strip() == "listening",
          f"the fake server as uid {uid} did not listen on {path}")
    return p


def link_squat(own_dir, target):
    """B's symbolic link at A's default directory, pointing at TARGET."""
    os.symlink(target, own_dir)
    os.lchown(own_dir, UID_B, UID_B)


def refuses_linked_dir(d, conf, own_dir):
    """The daemon will not bind through B's link to a sticky directory of
    root's, where it would otherwise pass every ownership check."""
    sticky = os.path.join(d, "sticky")
    os.mkdir(sticky)
    os.chmod(sticky, 0o1777)
    link_squat(own_dir, sticky)
    with open(os.path.join(d, "linked.log"), "w+") as log:
        p = start_as(UID_A, conf, log)
        wait_until(lambda: p.poll() is not None or
                   os.path.exists(os.path.join(sticky, "admin.sock")), 20)
        code = p.poll()
        log.seek(0)
        text = log.read()
    say(f"linked: the daemon exited {code}: "
        f"{text.strip().splitlines()[-1] if text.strip() else ''}")
    check(code == EXIT_OSERR, f"the daemon did not refuse its socket "
          f"directory as a symbolic link (exit {code}, sockets in the "
          f"target: {os.listdir(sticky)}); log:\n{text[-800:]}")
    check(own_dir in text and "symbolic link" in text, f"the error does "
          f"not name the link {own_dir}: {text[-400:]}")
    os.unlink(own_dir)


def root_refuses_linked_dir(d, own_dir):
    """Root's status does not take B's link for a directory of B's."""
    theirs = os.path.join(d, "theirs")
    os.mkdir(theirs, 0o700)
    os.chown(theirs, UID_B, UID_B)
    fake = squat(UID_B, os.path.join(theirs, "admin.sock"))
    link_squat(own_dir, theirs)
    r = run(["status", "-s", f"{own_dir}/admin.sock"])
    out = (r.stdout + r.stderr).strip()
    say(f"linked: status -s as root exited {r.returncode}: {out}")
    check(r.returncode != 0 and "symbolic link" in out, f"root believed "
          f"a server reached through another user's link: {out}")
    os.killpg(fake.pid, signal.SIGKILL)
    os.unlink(own_dir)


def write_conf(d, port):
    conf = os.path.join(d, "affinityd.conf")
    with open(conf, "w") as f:
        f.write(f"""topology = {{ workers = "0"; }};
listeners = (
  {{ name = "echo"; protocol = "tcp"; address = "127.0.0.1"; port = {port}; handler = "echo"; }}
);
""")
    os.chmod(conf, 0o644)
    return conf


def main():
    if os.geteuid() != 0:
        skip("needs root to run the daemon and a squatter as two other "
             "users")
    global BINARY
    BINARY = reachable_binary()
    if run_as(UID_A, ["--version"]).returncode != 0:
        skip(f"uid {UID_A} cannot run {BINARY}")
    global PYTHON
    PYTHON = next((p for p in (sys.executable, "/usr/bin/python3")
                   if runs_as(UID_B, p)), None)
    if PYTHON is None:
        skip(f"uid {UID_B} can run no python3 for the fake server")
    d = tempdir()
    os.chmod(d, 0o755)
    conf = write_conf(d, free_port())
    own_dir = f"/tmp/affinityd-{UID_A}"
    sock = f"{own_dir}/admin.sock"
    check(not os.path.lexists(own_dir), f"{own_dir} exists before the test")
    r = run_as(UID_A, ["status", "--help"])
    check(sock in r.stdout, f"status --help does not give {sock} as the "
          f"default socket: {r.stdout!r}")

    # B squats both the old default name and the new directory.
    os.mkdir(own_dir, 0o777)
    os.chmod(own_dir, 0o777)
    os.chown(own_dir, UID_B, UID_B)
    fakes = [squat(UID_B, sock), squat(UID_B, f"/tmp/affinityd-{UID_A}.sock")]
    with open(os.path.join(d, "squatted.log"), "w+") as log:
        t0 = time.monotonic()
        p = start_as(UID_A, conf, log)
        try:
            code = p.wait(20)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - t0
        log.seek(0)
        text = log.read()
    say(f"squatted: the daemon exited {code} after {took:.2f} s: "
        f"{text.strip().splitlines()[-1] if text.strip() else ''}")
    check(code == EXIT_OSERR, f"the daemon did not refuse a squatted "
          f"socket directory (exit {code}); log:\n{text[-800:]}")
    check(own_dir in text and str(UID_B) in text, f"the error does not "
          f"name {own_dir} and its owner {UID_B}: {text[-400:]}")
    r = run_as(UID_A, ["reload", "--wait"])
    out = (r.stdout + r.stderr).strip()
    say(f"squatted: reload --wait exited {r.returncode}: {out}")
    check("reloaded" not in r.stdout and r.returncode != 0,
          f"reload --wait believed another user's server: {out}")
    check(str(UID_B) in out, f"reload --wait does not say whose server "
          f"answered: {out}")
    r = run(["status", "-s", sock])
    out = (r.stdout + r.stderr).strip()
    say(f"squatted: status -s as root exited {r.returncode}: {out}")
    check(r.returncode != 0 and str(UID_B) in out, f"root believed a "
          f"server in a directory others may write to: {out}")
    for f in fakes:
        os.killpg(f.pid, signal.SIGKILL)
    shutil.rmtree(own_dir)
    try:
        os.unlink(f"/tmp/affinityd-{UID_A}.sock")
    except OSError:
        pass

    refuses_linked_dir(d, conf, own_dir)
    root_refuses_linked_dir(d, own_dir)

    with open(os.path.join(d, "daemon.log"), "w+") as log:
        p = start_as(UID_A, conf, log)
        ok = wait_until(lambda: p.poll() is not None or run_as(
            UID_A, ["status", "--json"]).returncode == 0, 20, 0.2)
        log.seek(0)
        check(ok and p.poll() is None, f"the daemon did not start as uid "
              f"{UID_A}; log:\n{log.read()[-800:]}")
    st = os.lstat(own_dir)
    say(f"own directory {own_dir}: mode {st.st_mode & 0o7777:04o}, uid "
        f"{st.st_uid}")
    check(st.st_uid == UID_A and st.st_mode & 0o7777 == 0o700,
          f"{own_dir} is mode {st.st_mode & 0o7777:o}, uid {st.st_uid}, "
          f"not 0700 owned by {UID_A}")
    # B can neither enter A's directory nor write to the socket: open
    # both, so that only the server's own check stands in B's way.
    os.chmod(own_dir, 0o711)
    os.chmod(sock, 0o666)
    r = run_as(UID_B, ["status", "-s", sock])
    out = (r.stdout + r.stderr).strip()
    say(f"status as uid {UID_B}: exit {r.returncode}: {out}")
    check(r.returncode != 0 and str(UID_A) in out, f"status as another "
          f"user trusted the daemon's server: {out}")
    r = subprocess.run([PYTHON, "-c", RAW_CLIENT, sock],
                       preexec_fn=as_user(UID_B), capture_output=True,
                       text=True, timeout=20)
    out = (r.stdout + r.stderr).strip()
    say(f"a raw client of uid {UID_B} asking for status got: {out}")
    check("permission denied" in out and "workers" not in out,
          f"the daemon answered another user: {out}")
    r = run_as(UID_A, ["status"])
    check(r.returncode == 0, f"status as the daemon's user failed: "
          f"{r.stderr}")
    say(f"status as uid {UID_A}: exit 0")
    # The operator: root asks the service's user's daemon, whose socket
    # sits in a directory only that user may write to.
    r = run(["status", "-s", sock])
    check(r.returncode == 0, f"status -s as root failed against the "
          f"daemon of uid {UID_A} in its own directory: {r.stderr}")
    say(f"status -s as root: exit 0")
    os.killpg(p.pid, signal.SIGTERM)
    check(p.wait(20) == 0, "the daemon did not stop cleanly")
    say("PASS")


if __name__ == "__main__":
    main()
