# SPDX-License-Identifier: BSD-2-Clause
"""Shared helpers of affinityd's end-to-end tests.

Each test is a script run as "python3 FILE" from the build directory with
AFFINITYD (the binary) and SRCDIR (the source tree) in its environment.  It
exits 0 when it passes, 77 when it cannot run here (it prints "SKIP: why")
and 1 when it fails (it prints "FAIL: why").  Every daemon a test starts
runs in its own session and is killed with its whole process group when the
test ends, however it ends.  Every wait is a loop on a condition with a
bound: nothing sleeps and hopes.
"""
import atexit
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

EXIT_SKIP = 77
EXIT_USAGE = 64
EXIT_OSERR = 71
EXIT_CONFIG = 78

INFO_KEYS = ("worker", "cpu", "pid")
# What AddressSanitizer, LeakSanitizer and UBSan write when they find
# something: a sanitizer build of the daemon fails the test that saw it.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


def say(msg):
    print(msg, flush=True)


def skip(why):
    say(f"SKIP: {why}")
    sys.exit(EXIT_SKIP)


def fail(msg):
    say(f"FAIL: {msg}")
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def binary():
    """The affinityd under test: $AFFINITYD, else ./daemon/affinityd."""
    path = os.environ.get("AFFINITYD") or os.path.join(os.getcwd(),
                                                        "daemon", "affinityd")
    if not os.access(path, os.X_OK):
        fail(f"no affinityd binary at {path} (set AFFINITYD)")
    return os.path.abspath(path)


def srcdir():
    return os.environ.get("SRCDIR") or os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))


def sanitizer_report(text):
    """The sanitizer report in TEXT, or None."""
    for mark in SANITIZER_MARKS:
        i = text.find(mark)
        if i >= 0:
            return text[max(0, i - 200):i + 2000]
    return None


def run(args, timeout=30, netns=None):
    """Runs affinityd ARGS to completion; returns the CompletedProcess."""
    cmd = [binary()] + list(args)
    if netns is not None:
        cmd = ["ip", "netns", "exec", netns] + cmd
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"{' '.join(cmd)} did not finish within {timeout} s")
    report = sanitizer_report(r.stderr)
    if report:
        fail(f"affinityd {' '.join(args)}: sanitizer report:\n{report}")
    return r


def wait_until(cond, timeout, interval=0.05):
    """Calls cond() until it returns something true or TIMEOUT passes;
    returns that value, or None when time ran out."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(interval)


def vmrss_kib(pid):
    """The resident memory of PID, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fail(f"no VmRSS for {pid}")


def asan_build():
    """Whether the daemon is built with AddressSanitizer, whose allocator
    adds redzones to every block and keeps freed memory in quarantine."""
    with open(binary(), "rb") as f:
        return b"__asan_init" in f.read()


def tempdir():
    d = tempfile.mkdtemp(prefix="affinityd-e2e-")
    atexit.register(shutil.rmtree, d, True)
    return d


# Processes ------------------------------------------------------------------

def proc_stat(pid):
    """(state, ppid, pgrp) of PID, or None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = s[s.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def alive(pid):
    """True while PID exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


def group_members(pgid):
    """The live (non-zombie) processes whose process group is PGID."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = proc_stat(int(name))
        if st is not None and st[0] != "Z" and st[2] == pgid:
            pids.append(int(name))
    return pids


# CPUs ------------------------------------------------------------------------

def require_cpus(*cpus):
    """Skips unless this process may run on every one of CPUS and pin
    itself to each."""
    n = os.cpu_count() or 1
    if n < len(cpus) or n < 2:
        skip(f"needs {max(2, len(cpus))} CPUs, this machine has {n}")
    allowed = os.sched_getaffinity(0)
    missing = sorted(set(cpus) - allowed)
    if missing:
        skip(f"CPUs {missing} are not in this process's affinity mask "
             f"{sorted(allowed)}")
    for cpu in cpus:
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError as e:
            skip(f"sched_setaffinity to CPU {cpu} refused: {e}")
    os.sched_setaffinity(0, allowed)
    return allowed


class pinned:
    """with pinned(cpu): runs the calling thread on CPU alone, and puts its
    affinity back afterwards.  sched_setaffinity(0) moves only the calling
    thread, so threads may be pinned to different CPUs."""

    def __init__(self, cpu):
        self.cpu = cpu

    def __enter__(self):
        self.saved = os.sched_getaffinity(0)
        try:
            os.sched_setaffinity(0, {self.cpu})
        except OSError as e:
            skip(f"sched_setaffinity to CPU {self.cpu} refused: {e}")
        return self

    def __exit__(self, *exc):
        os.sched_setaffinity(0, self.saved)
        return False


# Sockets ---------------------------------------------------------------------

def free_port(host="127.0.0.1"):
    """A port free for both TCP and UDP on HOST (bind port 0 to pick)."""
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind((host, 0))
            port = t.getsockname()[1]
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                u.bind((host, port))
                return port
            except OSError:
                continue
            finally:
                u.close()
        finally:
            t.close()
    fail("cannot find a port free for both TCP and UDP")


def parse_info(line, tcp=True):
    """The key=value pairs of an info reply, ints where they are numbers;
    fails when a contract key is missing or the line does not end in a
    newline."""
    if isinstance(line, bytes):
        line = line.decode("ascii", "replace")
    if not line.endswith("\n"):
        fail(f"info reply does not end in a newline: {line!r}")
    kv = {}
    for word in line.split():
        if "=" not in word:
            continue
        k, v = word.split("=", 1)
        try:
            kv[k] = int(v)
        except ValueError:
            kv[k] = v
    for k in INFO_KEYS + (("incoming_cpu",) if tcp else ()):
        if not isinstance(kv.get(k), int):
            fail(f"info reply lacks a numeric {k}=: {line!r}")
    return kv


def recv_line(s, timeout):
    """Reads up to the first newline or EOF within TIMEOUT seconds."""
    s.settimeout(timeout)
    data = b""
    while b"\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def tcp_info(host, port, timeout=5.0):
    """Connects, reads the info line the server writes on accept."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        return parse_info(recv_line(s, timeout))


def udp_info(host, port, timeout=1.0, tries=5):
    """One datagram from a fresh socket (so a fresh flow hash), answered
    with the info line; retried when a datagram or its reply is lost."""
    for _ in range(tries):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(b"where\n", (host, port))
            try:
                data, _ = s.recvfrom(4096)
            except socket.timeout:
                continue
            return parse_info(data, tcp=False)
    fail(f"no UDP info reply from {host}:{port} in {tries} tries")


def tcp_echo(host, port, payload, timeout=5.0):
    """Sends PAYLOAD while reading the echo, so that neither side's
    buffers can fill up and stall both; returns what came back."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.setblocking(False)
        sent, data = 0, b""
        end = time.monotonic() + timeout
        while len(data) < len(payload):
            left = end - time.monotonic()
            if left <= 0:
                break
            w = [s] if sent < len(payload) else []
            r, w, _ = select.select([s], w, [], left)
            if w:
                sent += s.send(payload[sent:sent + 65536])
                if sent == len(payload):
                    s.shutdown(socket.SHUT_WR)
            if r:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data


def udp_echo(host, port, payload, timeout=1.0, tries=5):
    for _ in range(tries):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(payload, (host, port))
            try:
                return s.recvfrom(65536)[0]
            except socket.timeout:
                continue
    return None


def answers(host, port, protocol, handler):
    """True when the listener answers one request now."""
    try:
        if protocol == "tcp":
            with socket.create_connection((host, port), timeout=1.0) as s:
                if handler == "echo":
                    s.sendall(b"ping\n")
                return b"\n" in recv_line(s, 1.0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            s.sendto(b"ping\n", (host, port))
            return bool(s.recvfrom(4096)[0])
    except OSError:
        return False


def tcp_listening(port):
    """How many TCP sockets of this network namespace listen on PORT."""
    n = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and \
                       fields[1].endswith(f":{port:04X}"):
                        n += 1
        except FileNotFoundError:
            pass
    return n


def has_data(s, timeout):
    """True when S becomes readable within TIMEOUT seconds."""
    r, _, _ = select.select([s], [], [], timeout)
    return bool(r)


# The daemon ------------------------------------------------------------------

_daemons = []


def _cleanup():
    for d in list(_daemons):
        d.kill(checked=False)


atexit.register(_cleanup)


def _on_signal(sig, frame):
    sys.exit(128 + sig)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)


def listener(name, protocol, port, handler, address="127.0.0.1"):
    return {"name": name, "protocol": protocol, "address": address,
            "port": port, "handler": handler}


class Daemon:
    """One affinityd with its own config, admin socket and log in a
    temporary directory.  NETNS runs it inside that network namespace."""

    def __init__(self, listeners, workers="0-1", steering="incoming-cpu",
                 netns=None, shutdown_timeout=2.0, log_level="info",
                 rescan_interval=None):
        self.listeners = listeners
        self.netns = netns
        self.shutdown_timeout = shutdown_timeout
        self.dir = tempdir()
        self.conf = os.path.join(self.dir, "affinityd.conf")
        self.sock = os.path.join(self.dir, "admin.sock")
        self.logpath = os.path.join(self.dir, "affinityd.log")
        self.proc = None
        self.plan = workers
        self.steering = steering
        self.log_level = log_level
        self.rescan_interval = rescan_interval
        self.prefix = []  # a command the daemon is started through
        self.write_config(listeners)

    def config_text(self, listeners, steering=None):
        """The configuration file for LISTENERS with this daemon's other
        settings (STEERING goes in as given, even an invalid value)."""
        ls = ",\n".join(
            f'  {{ name = "{l["name"]}"; protocol = "{l["protocol"]}"; '
            f'address = "{l["address"]}"; port = {l["port"]}; '
            f'handler = "{l["handler"]}"; }}' for l in listeners)
        rescan = "" if self.rescan_interval is None else \
            f"\n  rescan_interval = {self.rescan_interval:.1f};"
        return f"""daemon = {{
  admin_socket = "{self.sock}";
  shutdown_timeout = {self.shutdown_timeout:.1f};
  log_level = "{self.log_level}";
}};
topology = {{
  workers = "{self.plan}";
  steering = "{steering or self.steering}";{rescan}
}};
listeners = (
{ls}
);
"""

    def write_config(self, listeners, text=None):
        """Rewrites the configuration file (TEXT as given when not None);
        the listeners to wait for become LISTENERS."""
        self.listeners = listeners
        with open(self.conf, "w") as f:
            f.write(self.config_text(listeners) if text is None else text)

    def reload(self, *args, timeout=60):
        """Runs "affinityd reload ARGS", with -c CONF unless ARGS name a
        socket; returns the CompletedProcess."""
        args = list(args)
        if "-s" not in args:
            args += ["-c", self.conf]
        return run(["reload"] + args, timeout=timeout)

    def start(self, env=None):
        """Starts the daemon; ENV adds to (or, with None values, removes
        from) the environment it inherits."""
        cmd = self.prefix + [binary(), "-c", self.conf]
        if self.netns is not None:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        environ = None
        if env is not None:
            environ = dict(os.environ)
            for k, v in env.items():
                if v is None:
                    environ.pop(k, None)
                else:
                    environ[k] = v
        with open(self.logpath, "w") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, env=environ)
        self.pgid = self.proc.pid
        _daemons.append(self)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=1500):
        return self.log()[-n:]

    def status(self):
        """The status document, or None when the admin socket does not
        answer."""
        r = run(["status", "-s", self.sock, "--json"], timeout=15)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            fail(f"status --json is not JSON: {r.stdout[:300]!r}")

    def workers(self, doc=None):
        """The status workers, by CPU."""
        doc = doc or self.status()
        if doc is None:
            fail(f"status does not answer; log:\n{self.log_tail()}")
        return {w["cpu"]: w for w in doc["workers"]}

    def all_ready(self, doc):
        ws = doc.get("workers") if doc else None
        return bool(ws) and all(w.get("pid", 0) > 0 and
                                w.get("state", "ready") == "ready"
                                for w in ws)

    def wait_ready(self, timeout=20.0):
        """Waits until every worker is ready and every listener answers;
        fails, showing the log, when the daemon exits or time runs out."""
        def ready():
            if self.proc.poll() is not None:
                fail(f"affinityd exited with {self.proc.returncode} while "
                     f"starting; log:\n{self.log_tail()}")
            if not self.all_ready(self.status()):
                return False
            return all(answers(l["address"], l["port"], l["protocol"],
                               l["handler"]) for l in self.listeners)
        if not wait_until(ready, timeout, 0.1):
            fail(f"affinityd not serving after {timeout} s; log:\n"
                 f"{self.log_tail()}")
        return self

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """SIGTERM; returns the exit status, or None when it outlived the
        shutdown timeout plus a margin."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(self.shutdown_timeout + 8.0)

    def kill(self, checked=True):
        """Kills the whole process group and reaps the master; then fails
        when the log holds a sanitizer report (unless CHECKED is false or
        the test is already failing, when it only shows it)."""
        if self.proc is None or self not in _daemons:
            return
        _daemons.remove(self)
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        report = sanitizer_report(self.log())
        if report:
            if checked and sys.exc_info()[0] is None:
                fail(f"sanitizer report in the daemon's log:\n{report}")
            say(f"sanitizer report in the daemon's log:\n{report}")

    def unchanged(self, before, port, host="127.0.0.1"):
        """Fails unless the master lives, its workers and generation are
        those of the status document BEFORE, and the echo listener on
        PORT answers: what a refused reload must leave."""
        if self.proc.poll() is not None:
            fail(f"affinityd exited with {self.proc.returncode}; log:\n"
                 f"{self.log_tail()}")
        now = self.status()
        if now is None:
            fail(f"status does not answer; log:\n{self.log_tail()}")
        pids = sorted(w["pid"] for w in now["workers"])
        was = sorted(w["pid"] for w in before["workers"])
        check(pids == was and now["generation"] == before["generation"],
              f"the workers changed: {was} of generation "
              f"{before['generation']} -> {pids} of {now['generation']}")
        check(tcp_echo(host, port, b"ping\n") == b"ping\n",
              f"echo on port {port} does not answer")
        return now
