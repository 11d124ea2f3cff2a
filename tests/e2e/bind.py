# SPDX-License-Identifier: BSD-2-Clause
"""Boot binding as an operator uses it: "bind CPUS PID" on every thread of
a process (lists and hex masks, usage errors 64, a missing process 71);
the housekeeping bind refusing (78) when the plan leaves no CPU; the
boot-config output against the shipped systemd examples; and, in a fresh
PID namespace, the housekeeping bind and the early-boot init script moving
PID 1 and its children, a new child inheriting the housekeeping CPUs and a
child pinned to the worker CPU keeping its choice."""
import sys
sys.dont_write_bytecode = True

import os
import re
import shutil
import subprocess

from affinityd_test import (EXIT_CONFIG, EXIT_OSERR, EXIT_SKIP, EXIT_USAGE,
                            binary, check, fail, run, sanitizer_report, say,
                            srcdir, tempdir)

WORKER_CPU = 1
EXAMPLE_CONF = "/etc/affinityd/affinityd.conf"


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def cpulist(text):
    """The set of CPUs of a list such as "0-3,8"."""
    cpus = set()
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def fmt(cpus):
    return ",".join(str(c) for c in sorted(cpus))


def allowed_list(pid, tid=None):
    path = f"/proc/{pid}/task/{tid}/status" if tid else f"/proc/{pid}/status"
    with open(path) as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return cpulist(line.split(":", 1)[1])
    fail(f"{path} has no Cpus_allowed_list")


def conf(d, name, workers):
    return write(d, name, f"""topology = {{ workers = "{workers}"; }};
listeners = (
  {{ name = "echo"; protocol = "tcp"; address = "127.0.0.1"; port = 7777; handler = "echo"; }}
);
""")


def test_usage():
    for args, what in ((["bind", "3-x", "1"], '"3-x"'),
                       (["bind", "zz", "1"], '"zz"'),
                       (["bind", "0x0", "1"], '"0x0"'),
                       (["bind", "0", "1x"], '"1x"'),
                       (["bind", "0", "0"], '"0"'),
                       (["bind", "0"], "PID is missing"),
                       (["bind", "--housekeeping", "0", "1"], "--housekeeping"),
                       (["bind", "--dry-run", "0", "1"], "--housekeeping"),
                       (["boot-config", "--housekeeping-cpus", "--systemd"],
                        "usage:")):
        r = run(args)
        check(r.returncode == EXIT_USAGE, f"affinityd {' '.join(args)} "
              f"exited {r.returncode}, not {EXIT_USAGE}: {r.stderr.strip()}")
        check(what in r.stderr, f"affinityd {' '.join(args)}: the error "
              f"does not quote {what}: {r.stderr.strip()!r}")
    r = run(["bind", "--help"])
    check(r.returncode == 0 and "--housekeeping" in r.stdout,
          f"bind --help: {r.returncode} {r.stdout[:200]!r}")


THREADS = """import sys, threading
ev = threading.Event()
ts = [threading.Thread(target=ev.wait) for _ in range(2)]
for t in ts:
    t.start()
print("ready", flush=True)
sys.stdin.read()
ev.set()
"""


def test_bind_threads():
    """bind CPUS PID binds every thread of a process with three."""
    mine = os.sched_getaffinity(0)
    p = subprocess.Popen([sys.executable, "-c", THREADS],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    try:
        check(p.stdout.readline().strip() == "ready",
              "the threaded child did not start")
        tids = sorted(int(t) for t in os.listdir(f"/proc/{p.pid}/task"))
        check(len(tids) == 3, f"the child has threads {tids}, not 3")
        targets = [("0", {0})] if 0 in mine else []
        if max(mine) >= 1:
            top = max(mine)
            targets.append((hex(1 << top), {top}))
        targets.append((fmt(mine), mine))
        for text, want in targets:
            r = run(["bind", text, str(p.pid)])
            check(r.returncode == 0, f"bind {text} {p.pid} exited "
                  f"{r.returncode}: {r.stderr.strip()}")
            line = f"pid {p.pid}: 3 threads bound to {fmt_list(want)}\n"
            check(r.stdout == line, f"bind {text} {p.pid} printed "
                  f"{r.stdout!r}, not {line!r}")
            for tid in tids:
                got = allowed_list(p.pid, tid)
                check(got == want, f"after bind {text}: thread {tid} "
                      f"runs on {fmt(got)}, not {fmt(want)}")
            say(f"bind {text} {p.pid}: every thread on {fmt_list(want)}")
    finally:
        p.stdin.close()
        p.wait(10)
    r = run(["bind", "0", str(p.pid)])
    check(r.returncode == EXIT_OSERR, f"bind on an exited process exited "
          f"{r.returncode}, not {EXIT_OSERR}")
    check(f"pid {p.pid}: No such process" in r.stderr,
          f"bind on an exited process: {r.stderr.strip()!r}")


def fmt_list(cpus):
    """As the kernel and affinityd print lists: ranges joined."""
    out, cpus = [], sorted(cpus)
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(out)


def test_refusal():
    """A plan with a worker on every CPU leaves nothing for the system."""
    d = tempdir()
    c = conf(d, "all.conf", "cpus")
    before = os.sched_getaffinity(0)
    for args in (["bind", "--housekeeping", "-c", c],
                 ["boot-config", "--systemd", "-c", c],
                 ["boot-config", "--housekeeping-cpus", "-c", c]):
        r = run(args)
        check(r.returncode == EXIT_CONFIG, f"affinityd {' '.join(args)} "
              f"exited {r.returncode}, not {EXIT_CONFIG}: "
              f"{r.stderr.strip()}")
        check("no housekeeping CPU: workers use every allowed CPU" in
              r.stderr and "topology.exclude_cpus" in r.stderr,
              f"affinityd {' '.join(args)}: {r.stderr.strip()!r}")
        check(r.stdout == "", f"affinityd {' '.join(args)} printed "
              f"{r.stdout[:200]!r}")
    check(os.sched_getaffinity(0) == before, "a refused bind changed "
          "this process's affinity")
    say("no housekeeping CPU: refused with 78")


def split_files(text):
    """The files of boot-config --systemd, by the path in their first
    line."""
    files = {}
    for block in re.split(r"\n\n(?=# /etc/)", text)[1:]:
        first = block.split("\n", 1)[0]
        files[first[2:]] = block.rstrip("\n") + "\n"
    return files


def test_boot_config():
    """The drop-ins for a 16-CPU machine with workers on 2-15 are the
    shipped examples, and the kernel command line isolates 2-15."""
    d = tempdir()
    root = os.path.join(d, "root")
    os.makedirs(os.path.join(root, "sys/devices/system/cpu"))
    os.makedirs(os.path.join(root, "proc"))
    for name in ("online", "possible"):
        write(os.path.join(root, "sys/devices/system/cpu"), name, "0-15\n")
    write(os.path.join(root, "proc"), "interrupts", "           CPU0\n")
    c = write(d, "affinityd.conf", 'topology = { workers = "2-15"; };\n')
    r = run(["boot-config", "--sysroot", root, "-c", c])
    check(r.returncode == 0, f"boot-config exited {r.returncode}: "
          f"{r.stderr.strip()}")
    files = split_files(r.stdout.replace(f"-c {c}", f"-c {EXAMPLE_CONF}"))
    want = {
        "/etc/systemd/system/system.slice.d/50-affinityd-housekeeping.conf":
            "[Slice]\nAllowedCPUs=0-1\n",
        "/etc/systemd/system/user.slice.d/50-affinityd-housekeeping.conf":
            "[Slice]\nAllowedCPUs=0-1\n",
        "/etc/systemd/system/init.scope.d/50-affinityd-housekeeping.conf":
            "[Scope]\nAllowedCPUs=0-1\n",
        "/etc/systemd/system.conf.d/50-affinityd.conf":
            "[Manager]\nCPUAffinity=0-1\n",
        "/etc/systemd/system/affinityd.slice": "[Slice]\nAllowedCPUs=0-15\n",
        "/etc/systemd/system/affinityd.service.d/50-cpus.conf":
            "[Service]\nSlice=affinityd.slice\nAllowedCPUs=0-15\n",
    }
    check(sorted(files) == sorted(want), f"boot-config --systemd printed "
          f"the files {sorted(files)}, not {sorted(want)}")
    examples = os.path.join(srcdir(), "systemd", "examples")
    for path, tail in want.items():
        check(files[path].endswith(tail), f"{path}: does not end in "
              f"{tail!r}:\n{files[path]}")
        check("Generated by \"affinityd boot-config --systemd -c "
              f"{EXAMPLE_CONF}\"" in files[path], f"{path}: no "
              f"'Generated by' line:\n{files[path]}")
        shipped = os.path.join(examples, path[len("/etc/systemd/"):])
        try:
            with open(shipped) as f:
                text = f.read()
        except OSError as e:
            fail(f"no shipped example {shipped}: {e}")
        check(text == files[path], f"{shipped} differs from what "
              f"boot-config prints for its example machine:\n{files[path]}")
    say(f"boot-config --systemd: {len(files)} files, as shipped in "
        f"{examples}")

    r = run(["boot-config", "--sysroot", root, "-c", c, "--kernel-cmdline"])
    check(r.returncode == 0, f"boot-config --kernel-cmdline exited "
          f"{r.returncode}")
    lines = [l for l in r.stdout.splitlines() if not l.startswith("#")]
    check(lines == ["isolcpus=domain,2-15"], f"boot-config "
          f"--kernel-cmdline: command line {lines!r}")
    for why in ("Not irqaffinity=0-1", "Not nohz_full=2-15"):
        check(why in r.stdout, f"boot-config --kernel-cmdline does not "
              f"say {why!r}:\n{r.stdout}")
    check("/etc/systemd" not in r.stdout, "--kernel-cmdline alone also "
          "printed the drop-ins")
    r = run(["boot-config", "--sysroot", root, "-c", c,
             "--housekeeping-cpus"])
    check(r.returncode == 0 and r.stdout == "0-1\n",
          f"--housekeeping-cpus: {r.returncode} {r.stdout!r}")


# What PID 1 of the namespace runs: children before and after the bind,
# one pinned to the worker CPU; then every mask, one "name pid list" line.
PID1 = r"""
out=$1
sleep 600 & a=$!
sleep 600 & b=$!
taskset -c {worker} sleep 600 & p=$!
# taskset must have pinned itself and run sleep before the bind.
i=0
until read -r comm < /proc/$p/comm && [ "$comm" = sleep ]; do
	i=$((i + 1))
	[ $i -lt 1000000 ] || exit 3
done
mask() {{ sed -n "s/^Cpus_allowed_list:[[:space:]]*/$1 $2 /p" /proc/$2/status; }}
{{ mask init 1; mask a $a; }} > "$out/before"
{bind} > "$out/bind.out" 2> "$out/bind.err"
echo $? > "$out/bind.rc"
sleep 600 & n=$!
{{ mask init 1; mask a $a; mask b $b; mask pinned $p; mask new $n; }} > "$out/after"
{status}
kill $a $b $p $n
"""


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def masks(path):
    m = {}
    for line in read(path).splitlines():
        name, pid, cpus = line.split(" ", 2)
        m[name] = cpulist(cpus)
    return m


def in_pid_namespace(d, name, bind, status=""):
    """Runs PID1 in a new PID namespace with BIND as its bind step;
    returns the directory its results are in."""
    out = os.path.join(d, name)
    os.mkdir(out)
    script = write(d, f"{name}.sh", PID1.format(worker=WORKER_CPU,
                                                bind=bind, status=status))
    try:
        r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc",
                            "sh", script, out], capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        fail(f"{name}: the PID namespace did not finish within 60 s")
    check(r.returncode == 0, f"{name}: PID 1 exited {r.returncode}: "
          f"{r.stderr.strip()}")
    report = sanitizer_report(read(os.path.join(out, "bind.err")))
    if report:
        fail(f"{name}: sanitizer report:\n{report}")
    return out


def check_moved(name, out, start, hk, summary=True):
    before, after = masks(os.path.join(out, "before")), \
        masks(os.path.join(out, "after"))
    err = read(os.path.join(out, "bind.err"))
    rc = read(os.path.join(out, "bind.rc")).strip()
    check(rc == "0", f"{name}: the bind exited {rc}: {err.strip()}")
    check(before.get("init") == start, f"{name}: PID 1 started on "
          f"{before.get('init')}, not {start}")
    want = start & hk
    for who in ("init", "a", "b", "new"):
        check(after.get(who) == want, f"{name}: {who} runs on "
              f"{after.get(who)} after the bind, not {fmt(want)}; "
              f"stdout {read(os.path.join(out, 'bind.out'))!r} "
              f"stderr {err!r}")
    check(after.get("pinned") == {WORKER_CPU}, f"{name}: the task pinned "
          f"to CPU {WORKER_CPU} was moved to {after.get('pinned')}")
    if summary:
        text = read(os.path.join(out, "bind.out"))
        m = re.search(r"^moved (\d+) tasks to CPUs (\S+); kept 1 pinned "
                      r"elsewhere; skipped 0 kernel threads$", text, re.M)
        check(m is not None and int(m.group(1)) >= 3 and
              cpulist(m.group(2)) == hk, f"{name}: summary {text!r}")
    say(f"{name}: PID 1, its children and a new child on {fmt_list(want)}; "
        f"the task pinned to CPU {WORKER_CPU} kept")


def namespace_skip_reason():
    if os.geteuid() != 0:
        return "the PID namespace test needs root"
    if shutil.which("unshare") is None or shutil.which("taskset") is None:
        return "unshare or taskset (util-linux) is not installed"
    n = len(os.sched_getaffinity(0))
    if n < 2 or WORKER_CPU not in os.sched_getaffinity(0):
        return f"needs CPUs 0 and {WORKER_CPU}; this process may use {n}"
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc",
                        "true"], capture_output=True, text=True)
    if r.returncode != 0:
        return f"unshare refuses a PID namespace: {r.stderr.strip()}"
    return None


def test_pid_namespace():
    """The housekeeping bind, then the early-boot script, each as a child
    of PID 1 in a PID namespace of its own."""
    d = tempdir()
    c = conf(d, "worker1.conf", str(WORKER_CPU))
    r = run(["boot-config", "--housekeeping-cpus", "-c", c])
    check(r.returncode == 0, f"--housekeeping-cpus exited {r.returncode}: "
          f"{r.stderr.strip()}")
    hk = cpulist(r.stdout)
    check(WORKER_CPU not in hk and hk, f"housekeeping CPUs {r.stdout!r} "
          f"with the worker on CPU {WORKER_CPU}")
    start = os.sched_getaffinity(0)

    # A dry run changes nothing and says what it would do.
    out = in_pid_namespace(d, "dry", f"'{binary()}' bind --housekeeping "
                           f"--dry-run -c '{c}'")
    after = masks(os.path.join(out, "after"))
    check(after.get("init") == start and after.get("a") == start,
          f"--dry-run moved tasks: {after}")
    text = read(os.path.join(out, "bind.out"))
    check(re.search(r"^pid 1 tid 1 \(sh\): \S+ -> ", text, re.M) and
          "would move" in text, f"--dry-run printed {text!r}")

    out = in_pid_namespace(d, "housekeeping", f"'{binary()}' bind "
                           f"--housekeeping -c '{c}'")
    check_moved("bind --housekeeping", out, start, hk)

    # The init script, with its binary and configuration pointed here.
    src = os.path.join(srcdir(), "scripts", "init.d", "affinityd-bind.init")
    text = read(src)
    check(text.startswith("#!/bin/sh"), f"no init script at {src}")
    for key in ("Default-Start:     S", "Provides:          affinityd-bind"):
        check(key in text, f"{src}: no {key!r} in its LSB header")
    text = text.replace("DAEMON=/usr/sbin/affinityd", f"DAEMON='{binary()}'")
    text = text.replace("CONF=/etc/affinityd/affinityd.conf", f"CONF='{c}'")
    text = text.replace("/etc/default/affinityd", os.path.join(d, "none"))
    text = text.replace("/run/systemd/system", os.path.join(d, "none"))
    script = write(d, "affinityd-bind", text)
    out = in_pid_namespace(d, "init-script", f"sh '{script}' start",
                           f"sh '{script}' status > \"$out/status\"; "
                           f"echo $? > \"$out/status.rc\"")
    check_moved("init.d/affinityd-bind start", out, start, hk,
                summary=False)
    check(read(os.path.join(out, "status.rc")).strip() == "0",
          f"init.d/affinityd-bind status: "
          f"{read(os.path.join(out, 'status'))!r}")


def main():
    test_usage()
    test_bind_threads()
    test_refusal()
    test_boot_config()
    why = namespace_skip_reason()
    if why:
        say(f"SKIP: {why} (the other checks passed)")
        sys.exit(EXIT_SKIP)
    test_pid_namespace()
    say("bind: all checks passed")


if __name__ == "__main__":
    main()
