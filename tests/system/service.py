#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""affinityd's Debian package under a real systemd as PID 1.

  python3 tests/system/service.py [--notify-reload] PATH/TO/affinityd_*.deb

Boots a Debian 12 root file system (rootfs.py: built once, cached outside
the build tree) in a throw-away overlay with systemd-nspawn -b on cgroup v2,
its own network namespace and bpf() allowed (IPAddressDeny= needs it),
installs the package there with dpkg, and checks, in the container, what an
operator would see: the service started by the package, serving, reloading,
respawning, watched, filtered, stopped, bound at boot, run by the SysV
script, removed and purged.  Commands run in the container through nsenter
into its PID 1; clients are client.py run with the host's python in the
container's network namespace.

--notify-reload runs the same on a root file system with systemd from
bookworm-backports, with the package's Type=notify-reload drop-in; it skips
when the backports have no systemd 253 or later.

Prints one line per check with its figures, exits 0 when every check
passed, 1 when one failed, 77 (saying why) when it cannot run here: not
root, no systemd-nspawn, no overlayfs, no network to the package registry
for a root file system not yet cached.  Every wait is a bounded loop on a
condition.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import rootfs  # noqa: E402
# SIGTERM and SIGHUP exit through the finally clauses that tear down the
# container.
from affinityd_test import EXIT_SKIP, say, skip, wait_until  # noqa: E402

CONF = "/etc/affinityd/affinityd.conf"
ADMIN = "/run/affinityd/admin.sock"
UNIT = "affinityd.service"
DROPIN_DIR = "/etc/systemd/system/affinityd.service.d"
INFO_PORT, ECHO_PORT, HTTP_PORT = 7778, 7777, 8080
# An address of the container's own network, not loopback, on a veth.
OUTSIDE_ADDR = "10.77.0.1"
# The watchdog test shortens WatchdogSec= (shipped: 30 s) with a drop-in.
WATCHDOG_SEC = 3
BOOT_TIMEOUT = 60

failures = []


def check(ok, what, detail=""):
    say(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}")
    if not ok:
        failures.append(what)
    return ok


class Container:
    """A throw-away overlay of ROOT booted with systemd-nspawn."""

    def __init__(self, root):
        self.root = root
        self.dir = tempfile.mkdtemp(prefix="affinityd-system-",
                                    dir="/var/tmp")
        self.merged = os.path.join(self.dir, "merged")
        self.upper = os.path.join(self.dir, "upper")
        for d in ("upper", "work", "merged"):
            os.mkdir(os.path.join(self.dir, d))
        self.name = f"affinityd-test-{os.getpid()}"
        self.nspawn = None
        self.leader = None
        self.cgroup = None
        self.mounted = False

    def mount(self):
        opts = (f"lowerdir={self.root},upperdir={self.upper},"
                f"workdir={os.path.join(self.dir, 'work')}")
        r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts,
                            self.merged], capture_output=True, text=True)
        if r.returncode != 0:
            skip(f"cannot mount an overlay: {r.stderr.strip()}")
        self.mounted = True

    def _own_cgroup(self):
        """A fresh cgroup2 directory for nspawn, so that containers of
        parallel runs (and the host's own) never share "payload"."""
        mnt = None
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split()
                sep = fields.index("-")
                if fields[sep + 1] == "cgroup2":
                    mnt = fields[4]
                    break
        if mnt is None:
            skip("no cgroup2 hierarchy mounted on the host")
        with open("/proc/self/cgroup") as f:
            rel = next(ln.split(":", 2)[2].strip() for ln in f
                       if ln.startswith("0::"))
        self.cgroup = os.path.join(mnt + rel, self.name)
        os.mkdir(self.cgroup)

    def boot(self):
        """Starts the container; returns the seconds until systemd said
        the system is running."""
        if self.cgroup is None:
            self._own_cgroup()
        env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1")
        procs = os.path.join(self.cgroup, "cgroup.procs")

        def enter_cgroup():
            with open(procs, "w") as f:
                f.write(str(os.getpid()))

        log = open(os.path.join(self.dir, "nspawn.log"), "a")
        t0 = time.monotonic()
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "--boot", "-D", self.merged,
             "-M", self.name, "--private-network",
             "--system-call-filter=bpf", "--register=no", "--keep-unit",
             "--console=read-only"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, preexec_fn=enter_cgroup, start_new_session=True)
        log.close()
        self.leader = wait_until(self._find_leader, BOOT_TIMEOUT)
        if self.leader is None:
            raise RuntimeError("systemd-nspawn started no systemd:\n"
                               + self.nspawn_log())
        state = wait_until(self._booted, BOOT_TIMEOUT, interval=0.2)
        if state is None:
            raise RuntimeError("the container did not finish booting "
                               f"within {BOOT_TIMEOUT} s")
        if state != "running":
            failed = self.sh("systemctl --failed --no-legend", check=False)
            say(f"note: container is {state}: {failed.stdout.strip()}")
        return time.monotonic() - t0

    def _find_leader(self):
        if self.nspawn.poll() is not None:
            raise RuntimeError("systemd-nspawn exited with "
                               f"{self.nspawn.returncode}:\n"
                               + self.nspawn_log())
        try:
            with open(f"/proc/{self.nspawn.pid}/task/{self.nspawn.pid}"
                      "/children") as f:
                kids = f.read().split()
            for pid in kids:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "systemd":
                        return int(pid)
        except FileNotFoundError:
            pass
        return None

    def _booted(self):
        r = self.sh("systemctl is-system-running", check=False, timeout=10)
        state = r.stdout.strip()
        return state if state in ("running", "degraded") else None

    def nspawn_log(self):
        with open(os.path.join(self.dir, "nspawn.log"),
                  errors="replace") as f:
            return f.read()[-3000:]

    def sh(self, cmd, check=True, timeout=60, env=None):
        """Runs CMD with the container's sh in all its namespaces."""
        args = ["nsenter", "-t", str(self.leader), "-a", "--",
                "/usr/bin/env", "-i",
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]
        args += [f"{k}={v}" for k, v in (env or {}).items()]
        args += ["/bin/sh", "-c", cmd]
        try:
            r = subprocess.run(args, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"in the container, {cmd!r} did not finish "
                               f"within {timeout} s")
        if check and r.returncode != 0:
            raise RuntimeError(f"in the container, {cmd!r} exited "
                               f"{r.returncode}: {r.stderr.strip()}")
        return r

    def client_args(self, *args):
        return ["nsenter", "-t", str(self.leader), "-n", "--",
                sys.executable, os.path.join(HERE, "client.py")] + [
                    str(a) for a in args]

    def client(self, *args, timeout=20):
        """Runs client.py ARGS in the container's network; (ok, result)."""
        r = subprocess.run(self.client_args(*args), capture_output=True,
                           text=True, timeout=timeout)
        lines = r.stdout.strip().splitlines()
        try:
            res = json.loads(lines[-1]) if lines else {}
        except ValueError:
            res = {"error": r.stdout + r.stderr}
        if not lines:
            res = {"error": r.stderr.strip()}
        return r.returncode == 0, res

    def file(self, path):
        return os.path.join(self.merged, path.lstrip("/"))

    def write(self, path, text):
        p = self.file(path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)

    def reboot(self):
        """Reboots the container: nspawn exits 133 and is started again on
        the same overlay.  Returns the seconds until it ran again."""
        t0 = time.monotonic()
        self.sh("systemctl reboot", check=False)
        try:
            rc = self.nspawn.wait(timeout=BOOT_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RuntimeError("the container did not shut down to reboot "
                               f"within {BOOT_TIMEOUT} s")
        if rc != 133:
            raise RuntimeError(f"systemd-nspawn exited {rc} on reboot, "
                               "not 133:\n" + self.nspawn_log())
        self.boot()
        return time.monotonic() - t0

    def destroy(self):
        if self.nspawn is not None and self.nspawn.poll() is None:
            if self.leader:
                subprocess.run(["nsenter", "-t", str(self.leader), "-a",
                                "systemctl", "poweroff"],
                               capture_output=True, timeout=30)
            try:
                self.nspawn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.nspawn.pid, signal.SIGKILL)
                self.nspawn.wait(timeout=30)
        if self.mounted:
            subprocess.run(["umount", self.merged], check=False)
        if self.cgroup and os.path.isdir(self.cgroup):
            wait_until(lambda: self._rmdir(self.cgroup), 10)
        shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def _rmdir(path):
        for sub in sorted((os.path.join(d, x) for d, ds, _ in os.walk(path)
                           for x in ds), key=len, reverse=True):
            try:
                os.rmdir(sub)
            except OSError:
                pass
        try:
            os.rmdir(path)
            return True
        except OSError:
            return False


# What the service looks like from the container ------------------------------

class Service:
    def __init__(self, ct):
        self.ct = ct

    def prop(self, name):
        return self.ct.sh(f"systemctl show -P {name} {UNIT}").stdout.strip()

    def status(self, admin=ADMIN):
        r = self.ct.sh(f"affinityd status --json -s {admin}", check=False,
                       timeout=10)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def workers(self, admin=ADMIN):
        """{cpu: pid} of the serving generation, or None."""
        st = self.status(admin)
        if not st:
            return None
        return {w["cpu"]: w["pid"] for w in st["workers"]
                if not w.get("draining") and w.get("state") == "ready"}

    def cpus(self):
        return sorted(self.workers() or {})

    def cursor(self):
        r = self.ct.sh("journalctl -n 0 --show-cursor --no-pager")
        m = re.search(r"-- cursor: (\S+)", r.stdout)
        return m.group(1) if m else None

    def journal(self, cursor, max_prio=7):
        """The unit's journal lines after CURSOR at priority MAX_PRIO or
        more urgent.  Filtered here: journalctl 252 with -u, -p and
        --after-cursor together drops lines it should show."""
        r = self.ct.sh(f"journalctl -u {UNIT} --no-pager -o json "
                       f"--after-cursor='{cursor}'")
        lines = []
        for js in r.stdout.splitlines():
            e = json.loads(js)
            if int(e.get("PRIORITY", 6)) <= max_prio:
                lines.append(f"<{e.get('PRIORITY')}> {e.get('MESSAGE')}")
        return "\n".join(lines)

    def timed(self, cmd, timeout=60):
        t0 = time.monotonic()
        r = self.ct.sh(cmd, check=False, timeout=timeout)
        return r, time.monotonic() - t0

    def processes(self):
        """(pid, comm) of every affinityd process in the container."""
        r = self.ct.sh("for p in /proc/[0-9]*; do "
                       "c=$(cat $p/comm 2>/dev/null) && "
                       "[ \"$c\" = affinityd ] && echo ${p#/proc/}; done; "
                       "true")
        return [int(p) for p in r.stdout.split()]

    def info_ok(self, cpu, workers=None):
        """Whether a client pinned to CPU is served by the worker of CPU."""
        ok, res = self.ct.client("info", INFO_PORT, cpu)
        if not ok:
            return False, res.get("error", res)
        f = res["fields"]
        good = f.get("cpu") == str(cpu)
        if workers is not None:
            good = good and f.get("pid") == str(workers.get(cpu))
        return good, res["line"]


# The checks ------------------------------------------------------------------

def check_install(ct, svc, deb):
    shutil.copy(deb, ct.file("/root/affinityd.deb"))
    r, secs = svc.timed("dpkg -i /root/affinityd.deb", timeout=120)
    ct.sh("rm -f /root/affinityd.deb")
    check(r.returncode == 0, "dpkg -i installs the package",
          f"{secs:.1f} s" if r.returncode == 0 else r.stdout + r.stderr)
    user = ct.sh("getent passwd affinityd", check=False).stdout.strip()
    check(bool(user), "the affinityd user exists", user)
    conff = ct.sh("dpkg-query -W -f='${Conffiles}' affinityd").stdout
    check(CONF in conff, f"{CONF} is a conffile")
    enabled = ct.sh(f"systemctl is-enabled {UNIT}", check=False)
    check(enabled.stdout.strip() == "enabled", "the unit is enabled",
          enabled.stdout.strip())
    active = svc.prop("ActiveState")
    check(active == "active", "installing started the service", active)
    migrate = ct.sh("cat /proc/sys/net/ipv4/tcp_migrate_req").stdout.strip()
    check(migrate == "1", "net.ipv4.tcp_migrate_req is 1 after install",
          migrate)


def check_start(ct, svc):
    r, _ = svc.timed(f"systemctl stop {UNIT}")
    cursor = svc.cursor()
    r, secs = svc.timed(f"systemctl start {UNIT}")
    ok = r.returncode == 0 and svc.prop("ActiveState") == "active"
    status = svc.prop("StatusText")
    check(ok and "workers" in status,
          "systemctl start returns once READY, active",
          f"time to ready {secs:.2f} s, status \"{status}\"" if ok
          else r.stderr)
    ready = "master: ready:" in svc.journal(cursor)
    check(ready, "the journal has the master's ready line")
    warn = svc.journal(cursor, max_prio=4)
    check(warn == "", "no journal line at warning or above on a clean start",
          warn.replace("\n", " | "))


def check_serving(ct, svc):
    workers = svc.workers()
    check(bool(workers), "affinityd status lists the workers",
          str(workers))
    for cpu in sorted(workers or {}):
        good, line = svc.info_ok(cpu, workers)
        check(good, f"info from a client pinned to CPU {cpu} is served by "
              f"the worker of CPU {cpu}", str(line))
        ok, res = ct.client("echo", ECHO_PORT, cpu)
        check(ok, f"echo over TCP and UDP answers on CPU {cpu}", str(res))
    ok, res = ct.client("http", HTTP_PORT)
    check(ok and res.get("body") == "ok\n", "http answers 200 \"ok\"",
          str(res))


def check_reload(ct, svc):
    before = svc.workers() or {}
    master = svc.prop("MainPID")
    loops = [subprocess.Popen(ct.client_args("loop", ECHO_PORT, cpu),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
             for cpu in sorted(before)]
    for p in loops:
        p.stdout.readline()

    def counts():
        total = 0
        for p in loops:
            p.send_signal(signal.SIGUSR1)
            total += json.loads(p.stdout.readline())["ok"]
        return total

    # The loops are running once they have done some exchanges.
    started = wait_until(lambda: counts() >= 20 * len(loops), 20)
    at_reload = counts()
    r, secs = svc.timed(f"systemctl reload {UNIT}")
    at_done = counts()
    after = svc.workers() or {}
    # Exchanges after the reload go through the new generation.
    wait_until(lambda: counts() >= at_done + 20 * len(loops), 20)
    results = []
    for p in loops:
        p.stdin.close()
        out = p.stdout.read().strip().splitlines()
        p.wait(timeout=20)
        results.append(json.loads(out[-1]))
    ok_total = sum(x["ok"] for x in results)
    failed = sum(x["failed"] for x in results)
    check(started is not None and r.returncode == 0,
          "systemctl reload exits 0", f"{secs:.2f} s")
    check(svc.prop("MainPID") == master, "the master is kept",
          f"pid {master}")
    changed = bool(after) and set(after) == set(before) and all(
        after[c] != before[c] for c in before)
    check(changed, "every worker pid changed, on the same CPUs",
          f"{before} -> {after}")
    errs = "; ".join(x["first_error"] for x in results if x["first_error"])
    check(failed == 0,
          "no exchange failed across the reload",
          f"{at_done - at_reload} exchanges during the reload, "
          f"{ok_total} in all, {failed} failed{': ' + errs if errs else ''}")


def check_respawn(ct, svc):
    before = svc.workers() or {}
    cpu = max(before) if before else None
    if cpu is None:
        return check(False, "a worker to kill")
    victim = before[cpu]
    t0 = time.monotonic()
    ct.sh(f"kill -9 {victim}")
    after = wait_until(lambda: (lambda w: w if w and w.get(cpu) not in
                                (None, victim) else None)(svc.workers()), 15)
    secs = time.monotonic() - t0
    good, line = svc.info_ok(cpu, after) if after else (False, "")
    check(after is not None and good,
          f"kill -9 of the worker of CPU {cpu} brings a new one there",
          f"pid {victim} -> {(after or {}).get(cpu)} in {secs:.2f} s; {line}")


def check_bad_reload(ct, svc, notify_reload=False):
    before = svc.workers() or {}
    conf = ct.file(CONF)
    shutil.copy(conf, conf + ".good")
    with open(conf, "a") as f:
        f.write("\nthis is not libconfig\n")
    cursor = svc.cursor()
    r, secs = svc.timed(f"systemctl reload {UNIT}")
    shutil.move(conf + ".good", conf)
    # At any priority: "affinityd reload" prints its errors on standard
    # error, which journald records at info priority.
    said = wait_until(lambda: [ln for ln in svc.journal(cursor).splitlines()
                               if CONF in ln and "syntax error" in ln], 10)
    check(bool(said), "the journal names the broken configuration",
          said[0] if said else "")
    how = f"exit {r.returncode}"
    if r.stderr.strip():
        how += ": " + r.stderr.strip().splitlines()[0]
    if notify_reload:
        # systemd sends SIGHUP and waits for READY=1; the protocol has no
        # failure reply, so systemctl cannot tell a refused reload.
        say(f"note: with Type=notify-reload, systemctl reload of a broken "
            f"configuration: {how} (systemd hears READY=1 only)")
    else:
        check(r.returncode != 0, "systemctl reload with a broken "
              "configuration fails", how)
    after = svc.workers() or {}
    good = [svc.info_ok(c, after)[0] for c in sorted(after)]
    check(svc.prop("ActiveState") == "active" and after == before
          and good and all(good),
          "the old workers keep serving after the refused reload",
          f"{after}")


def check_watchdog(ct, svc):
    ct.write(f"{DROPIN_DIR}/50-test-watchdog.conf",
             f"[Service]\nWatchdogSec={WATCHDOG_SEC}\n")
    ct.sh(f"systemctl daemon-reload && systemctl restart {UNIT}")
    master = svc.prop("MainPID")
    cursor = svc.cursor()
    t0 = time.monotonic()
    ct.sh(f"kill -STOP {master}")

    def restarted():
        pid = svc.prop("MainPID")
        return (pid not in ("0", master) and svc.prop("ActiveState") ==
                "active" and svc.workers())

    ok = wait_until(restarted, WATCHDOG_SEC + 40, interval=0.25)
    secs = time.monotonic() - t0
    said = "Watchdog timeout" in svc.journal(cursor)
    check(bool(ok) and said, f"the watchdog (WatchdogSec={WATCHDOG_SEC} by drop-in) "
          "restarts a SIGSTOPped master",
          f"pid {master} -> {svc.prop('MainPID')} in {secs:.1f} s, "
          f"\"Watchdog timeout\" in the journal: {said}")
    os.unlink(ct.file(f"{DROPIN_DIR}/50-test-watchdog.conf"))
    ct.sh(f"systemctl daemon-reload && systemctl restart {UNIT}")


def check_ip_filter(ct, svc):
    link = subprocess.run(
        ["nsenter", "-t", str(ct.leader), "-n", "--", "sh", "-c",
         f"ip link add afftest0 type veth peer name afftest1 && "
         f"ip addr add {OUTSIDE_ADDR}/32 dev afftest0 && "
         f"ip link set afftest0 up && ip link set afftest1 up"],
        capture_output=True, text=True)
    if not check(link.returncode == 0, "a veth link with a non-loopback "
                 "address in the container", link.stderr.strip()):
        return
    ok, res = ct.client("info", INFO_PORT, 0, OUTSIDE_ADDR)
    check(not ok, f"IPAddressDeny=any blocks a client from {OUTSIDE_ADDR}",
          str(res))
    ok, res = ct.client("info", INFO_PORT, 0)
    check(ok, "while a loopback client is served", str(res.get("line", res)))
    ct.write(f"{DROPIN_DIR}/50-test-allow.conf",
             "[Service]\nIPAddressAllow=any\n")
    ct.sh(f"systemctl daemon-reload && systemctl restart {UNIT}")
    ok, res = ct.client("info", INFO_PORT, 0, OUTSIDE_ADDR)
    check(ok, f"an IPAddressAllow=any drop-in lets {OUTSIDE_ADDR} in",
          str(res.get("line", res)))
    os.unlink(ct.file(f"{DROPIN_DIR}/50-test-allow.conf"))
    ct.sh(f"systemctl daemon-reload && systemctl restart {UNIT}")


def check_security(ct, svc):
    r = ct.sh(f"systemd-analyze security --no-pager {UNIT}", check=False)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
    level = float(m.group(1)) if m else None
    check(level is not None and level <= 1.5,
          "systemd-analyze security exposure <= 1.5", str(level))


def check_stop(ct, svc):
    limit = float(svc.prop("TimeoutStopUSec").rstrip("s") or 0) \
        if svc.prop("TimeoutStopUSec").endswith("s") else 30.0
    r, secs = svc.timed(f"systemctl stop {UNIT}", timeout=limit + 30)
    result = svc.prop("Result")
    status = svc.prop("ExecMainStatus")
    left = svc.processes()
    check(r.returncode == 0 and result == "success" and status == "0"
          and secs < limit and not left,
          "systemctl stop: exit 0 within TimeoutStopSec, nothing left",
          f"time to stop {secs:.2f} s (limit {limit:.0f} s), result "
          f"{result}, status {status}, left {left}")


def check_boot_binding(ct, svc):
    if os.cpu_count() < 2:
        say("note: boot binding not checked: one CPU leaves no worker CPU "
            "once CPU 0 is excluded")
        return
    conf = ct.file(CONF)
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(text.replace('exclude_cpus = "";', 'exclude_cpus = "0";'))
    out = ct.sh(f"affinityd boot-config --systemd -c {CONF}").stdout
    files = {}
    path = None
    for line in out.splitlines(keepends=True):
        m = re.match(r"# (/etc/systemd/\S+)$", line)
        if m:
            path = m.group(1)
            files[path] = ""
        elif path:
            files[path] += line
    for p, body in files.items():
        ct.write(p, body)
    hk = ct.sh(f"affinityd boot-config --housekeeping-cpus -c {CONF}")
    hk = hk.stdout.strip()
    secs = ct.reboot()
    svc.ct = ct
    pid1 = ct.sh("sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "
                 "/proc/1/status").stdout.strip()
    check(pid1 == hk, "after a reboot with the boot-config --systemd "
          "drop-ins, PID 1 runs on the housekeeping CPUs (CPUAffinity=)",
          f"{len(files)} files, reboot {secs:.1f} s, PID 1 on {pid1}, "
          f"housekeeping {hk}")
    active = wait_until(lambda: svc.prop("ActiveState") == "active"
                        and svc.workers(), 30)
    master = svc.prop("MainPID")
    mcpus = ct.sh("sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "
                  f"/proc/{master}/status").stdout.strip()
    slice_ = svc.prop("Slice")
    workers = svc.workers() or {}
    wcpus = {c: ct.sh("sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "
                      f"/proc/{p}/status").stdout.strip()
             for c, p in workers.items()}
    check(bool(active) and slice_ == "affinityd.slice" and mcpus == hk
          and sorted(workers) == [c for c in range(os.cpu_count())
                                  if str(c) != hk]
          and all(wcpus[c] == str(c) for c in wcpus),
          "the service runs in affinityd.slice, its master on the "
          "housekeeping CPUs, one worker pinned on each worker CPU",
          f"slice {slice_}, master on {mcpus}, workers {wcpus}")
    say("note: AllowedCPUs= (system.slice, user.slice, init.scope, "
        "affinityd.slice) cannot be checked here: the host's cgroup2 has no "
        "cpuset controller")
    for p in files:
        os.unlink(ct.file(p))
    with open(conf, "w") as f:
        f.write(text)
    ct.sh(f"systemctl daemon-reload && systemctl restart {UNIT}")


def check_sysv(ct, svc):
    ct.sh(f"systemctl stop {UNIT}")
    env = {"SYSTEMCTL_SKIP_REDIRECT": "1"}
    # As from a login shell: in a scope of its own in the container.
    script = "systemd-run --quiet --scope --unit=affinityd-sysv-test " \
        "/etc/init.d/affinityd"
    r = ct.sh(f"{script} start", check=False, env=env)

    def pidfile():
        return ct.sh("cat /run/affinityd.pid", check=False).stdout.strip()

    master = wait_until(pidfile, 15)
    workers = wait_until(svc.workers, 15)
    good = [svc.info_ok(c, workers)[0] for c in sorted(workers or {})]
    check(r.returncode == 0 and master and good and all(good),
          "the SysV script starts the daemon, which serves",
          f"master {master}, workers {workers}")
    r = ct.sh(f"/etc/init.d/affinityd reload", check=False, env=env)
    after = svc.workers() or {}
    same = pidfile() == master
    check(r.returncode == 0 and same and workers and after and
          all(after.get(c) not in (None, p) for c, p in workers.items()),
          "the SysV script reloads: new worker pids, same master",
          f"{workers} -> {after}")
    r = ct.sh("/etc/init.d/affinityd status", check=False, env=env)
    check(r.returncode == 0, "the SysV script's status says running")
    r = ct.sh("/etc/init.d/affinityd stop", check=False, env=env)
    gone = wait_until(lambda: not svc.processes(), 15)
    check(r.returncode == 0 and gone and not pidfile(),
          "the SysV script stops the daemon", r.stdout.strip())
    ct.sh(f"systemctl start {UNIT}")


def ours(ct):
    """Paths in the container that name affinityd, but for the journal."""
    r = ct.sh("find / -xdev \\( -path /proc -o -path /sys -o -path "
              "/var/log/journal \\) -prune -o -name '*affinityd*' -print",
              check=False)
    return sorted(r.stdout.split())


def check_remove_purge(ct, svc):
    r = ct.sh("apt-get remove -y -q affinityd", check=False, timeout=120)
    left = svc.processes()
    conf_kept = os.path.exists(ct.file(CONF))
    check(r.returncode == 0 and not left and conf_kept
          and not os.path.exists(ct.file("/usr/sbin/affinityd")),
          "apt-get remove stops the daemon, keeps the configuration",
          f"running {left}, {CONF} kept: {conf_kept}")
    r = ct.sh("apt-get purge -y -q affinityd", check=False, timeout=120)
    files = ours(ct)
    # Drop-ins the operator (here, the test) made are the operator's.
    operators = [f for f in files if f.startswith(DROPIN_DIR)]
    files = [f for f in files if f not in operators]
    user = ct.sh("getent passwd affinityd", check=False).stdout.strip()
    check(r.returncode == 0 and not svc.processes() and not files,
          "apt-get purge leaves nothing running and no file of ours",
          f"left: {files or 'none'}; kept as the operator's: "
          f"{operators or 'none'}; the affinityd user stays (Debian keeps "
          f"system users): {bool(user)}")


def check_notify_reload(ct, svc):
    ct.sh(f"mkdir -p {DROPIN_DIR} && cp /usr/share/doc/affinityd/"
          f"notify-reload.conf {DROPIN_DIR}/ && systemctl daemon-reload && "
          f"systemctl restart {UNIT}")
    t = svc.prop("Type")
    check(t == "notify-reload", "the notify-reload drop-in is in effect", t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--notify-reload", action="store_true")
    ap.add_argument("deb")
    args = ap.parse_args()
    if os.geteuid() != 0:
        skip("needs root (overlay mounts, systemd-nspawn)")
    for tool in ("systemd-nspawn", "nsenter"):
        if shutil.which(tool) is None:
            skip(f"no {tool} (package systemd-container / util-linux)")
    if not os.path.isfile(args.deb):
        say(f"FAIL: no package at {args.deb}")
        return 1
    try:
        if args.notify_reload:
            root, built = rootfs.get_backports(say=say)
        else:
            root, built = rootfs.get(say=say)
    except RuntimeError as e:
        say(f"FAIL: building the root file system: {e}")
        return 1
    if root is None:
        skip(built)
    say(f"root file system {root}"
        + (f" (built in {built:.0f} s)" if built else " (cached)"))
    t_start = time.monotonic()
    ct = Container(root)
    try:
        ct.mount()
        secs = ct.boot()
        ver = ct.sh("systemctl --version").stdout.split("\n")[0]
        say(f"container booted in {secs:.1f} s: {ver}")
        svc = Service(ct)
        check_install(ct, svc, args.deb)
        if args.notify_reload:
            check_notify_reload(ct, svc)
        check_start(ct, svc)
        check_serving(ct, svc)
        check_reload(ct, svc)
        check_respawn(ct, svc)
        check_bad_reload(ct, svc, args.notify_reload)
        check_security(ct, svc)
        check_ip_filter(ct, svc)
        check_watchdog(ct, svc)
        check_boot_binding(ct, svc)
        check_sysv(ct, svc)
        check_stop(ct, svc)
        check_remove_purge(ct, svc)
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        check(False, "the test ran to its end", f"{type(e).__name__}: {e}")
    finally:
        ct.destroy()
    say(f"system test took {time.monotonic() - t_start:.0f} s"
        + (f" after {built:.0f} s building the root file system"
           if built else ""))
    if failures:
        say(f"FAIL: {len(failures)} checks failed: " + "; ".join(failures))
        return 1
    say("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
