# SPDX-License-Identifier: BSD-2-Clause
"""The command line as scripts and operators use it: --help, --version,
-t on good and bad files (exit 0 / 78, FILE:LINE on stderr), the topology
JSON contract, the loopback fallback, usage errors (64), and "status" with
no daemon behind its socket, and the error priority of a refused start or
reload when stderr is the journal."""
import sys
sys.dont_write_bytecode = True

import json
import os
import pwd
import re
import subprocess

from affinityd_test import (EXIT_CONFIG, EXIT_USAGE, binary, check, fail,
                            run, say, srcdir, tempdir)


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_help_version():
    r = run(["--help"])
    check(r.returncode == 0, f"--help exited {r.returncode}: {r.stderr}")
    check("usage:" in r.stdout, f"--help prints no usage on stdout: "
          f"{r.stdout[:200]!r}")
    for cmd in ("topology", "status", "-t", "-c"):
        check(cmd in r.stdout, f"--help does not mention {cmd}")
    r = run(["--version"])
    check(r.returncode == 0, f"--version exited {r.returncode}")
    check(re.fullmatch(r"affinityd \d+\.\d+(\.\d+)?\S*\n", r.stdout),
          f"--version prints {r.stdout!r}, not 'affinityd X.Y.Z'")
    configure = os.path.join(srcdir(), "configure.ac")
    if os.path.exists(configure):
        m = re.search(r"AC_INIT\(\[affinityd\],\s*\[([^\]]+)\]",
                      open(configure).read())
        if m:
            check(r.stdout.split()[1] == m.group(1),
                  f"--version says {r.stdout.strip()!r}, configure.ac "
                  f"says {m.group(1)}")


def check_shipped(shipped):
    """The shipped file is the package's: it runs the workers as the
    affinityd user, which the package creates.  Where that user does not
    exist, -t says so in one line that tells what to do, and nothing
    else."""
    r = run(["-t", "-c", shipped])
    try:
        pwd.getpwnam("affinityd")
    except KeyError:
        lines = r.stderr.strip().splitlines()
        check(r.returncode == EXIT_CONFIG and len(lines) == 1 and
              re.match(re.escape(shipped) + r':\d+: daemon.user: no such '
                       r'user "affinityd".*create it', lines[0]),
              f"-t on the shipped {shipped} without an affinityd user "
              f"exited {r.returncode}: {r.stderr.strip()!r}")
        # The README shows this very line.
        readme = os.path.join(srcdir(), "README.md")
        if os.path.exists(readme):
            shown = lines[0].replace(shipped, "conf/affinityd.conf")
            check(shown in open(readme).read(), f"the README does not show "
                  f"what -t says of the shipped file: {shown!r}")
        return
    check(r.returncode == 0, f"-t on the shipped {shipped} exited "
          f"{r.returncode}: {r.stderr.strip()}")


def test_check_config():
    d = tempdir()
    good = write(d, "good.conf", f"""# every section, valid
daemon = {{
  admin_socket = "{d}/admin.sock";
  log_level = "debug";
  shutdown_timeout = 2.5;
}};
topology = {{
  workers = "0";
  steering = "none";
}};
listeners = (
  {{ name = "info"; protocol = "tcp"; address = "127.0.0.1"; port = 7778; handler = "info"; }},
  {{ name = "echo-udp"; protocol = "udp"; address = "::1"; port = 7777; handler = "echo"; }}
);
""")
    r = run(["-t", "-c", good])
    check(r.returncode == 0, f"-t on a valid file exited {r.returncode}: "
          f"{r.stderr.strip()}")
    r = run(["--test", "--config", good])
    check(r.returncode == 0, f"--test --config on a valid file exited "
          f"{r.returncode}: {r.stderr.strip()}")
    r = run(["-t"])
    check(r.returncode == 0, f"-t with the built-in defaults exited "
          f"{r.returncode}: {r.stderr.strip()}")
    shipped = os.path.join(srcdir(), "conf", "affinityd.conf")
    if os.path.exists(shipped):
        check_shipped(shipped)

    # Two errors, lines 3 and 6: both reported, each with FILE:LINE and key.
    bad = write(d, "bad.conf", """daemon = {
  admin_socket = "/tmp/x.sock";
  log_level = "loud";
};
topology = {
  steering = "sideways";
};
""")
    r = run(["-t", "-c", bad])
    check(r.returncode == EXIT_CONFIG, f"-t on an invalid file exited "
          f"{r.returncode}, not {EXIT_CONFIG}: {r.stderr.strip()}")
    for line, key in ((3, "log_level"), (6, "steering")):
        hit = [l for l in r.stderr.splitlines() if f"{bad}:{line}" in l]
        check(hit, f"-t did not report {bad}:{line} on stderr: "
              f"{r.stderr.strip()!r}")
        check(any(key in l for l in hit), f"the error at {bad}:{line} does "
              f"not name the key {key}: {hit}")
    check(r.stdout == "", f"-t wrote errors to stdout: {r.stdout!r}")

    syntax = write(d, "syntax.conf", """daemon = {
  log_level = "info";
  max_connections = ;
};
""")
    r = run(["-t", "-c", syntax])
    check(r.returncode == EXIT_CONFIG, f"-t on a syntax error exited "
          f"{r.returncode}, not {EXIT_CONFIG}")
    check(re.search(re.escape(syntax) + r":3\b", r.stderr),
          f"-t did not name {syntax}:LINE for a syntax error: "
          f"{r.stderr.strip()!r}")

    missing = os.path.join(d, "no-such.conf")
    r = run(["-t", "-c", missing])
    check(r.returncode == EXIT_CONFIG, f"-t on a missing file exited "
          f"{r.returncode}, not {EXIT_CONFIG}")
    check(missing in r.stderr, f"-t on a missing file does not name it: "
          f"{r.stderr.strip()!r}")

    # The shipped fixtures of broken files: each one is refused with 78
    # and at least one FILE:LINE.
    fixtures = os.path.join(srcdir(), "tests", "fixtures", "conf")
    names = sorted(n for n in os.listdir(fixtures) if n.startswith("bad-")) \
        if os.path.isdir(fixtures) else []
    for name in names:
        path = os.path.join(fixtures, name)
        r = run(["-t", "-c", path])
        check(r.returncode == EXIT_CONFIG, f"-t on {name} exited "
              f"{r.returncode}, not {EXIT_CONFIG}: {r.stderr.strip()!r}")
        check(re.search(re.escape(path) + r":\d+", r.stderr),
              f"-t on {name} names no {path}:LINE: {r.stderr.strip()!r}")
    say(f"-t: good and bad files ok ({len(names)} fixtures)")


def test_topology():
    r = run(["topology", "--json"])
    check(r.returncode == 0, f"topology --json exited {r.returncode}: "
          f"{r.stderr.strip()}")
    try:
        doc = json.loads(r.stdout)
    except ValueError as e:
        fail(f"topology --json is not JSON ({e}): {r.stdout[:300]!r}")
    for key in ("interfaces", "workers"):
        check(isinstance(doc.get(key), list), f"topology --json has no "
              f"list '{key}': {r.stdout[:300]!r}")
    for i in doc["interfaces"]:
        for key in ("name", "driver", "source", "queues"):
            check(key in i, f"interface lacks '{key}': {i}")
        check(i["source"] in ("netlink", "irq", "rps", "cpus"),
              f"interface {i['name']}: source {i['source']!r}")
        for q in i["queues"]:
            for key in ("queue", "irq", "cpu", "irq_cpus"):
                check(key in q, f"{i['name']}: queue lacks '{key}': {q}")
            check(q["irq"] is None or isinstance(q["irq"], int),
                  f"{i['name']}: irq is neither null nor a number: {q}")
    check(doc["workers"], "topology --json plans no worker")
    for w in doc["workers"]:
        for key in ("id", "cpu", "queues"):
            check(key in w, f"worker lacks '{key}': {w}")
        check(isinstance(w["cpu"], int) and isinstance(w["queues"], list),
              f"worker has a bad cpu or queues: {w}")

    r = run(["topology"])
    check(r.returncode == 0 and r.stdout.strip(),
          f"topology (table) exited {r.returncode} or printed nothing")

    # lo has no per-queue IRQs and no RPS: one worker per allowed CPU.
    r = run(["topology", "--json", "lo"])
    check(r.returncode == 0, f"topology --json lo exited {r.returncode}: "
          f"{r.stderr.strip()}")
    doc = json.loads(r.stdout)
    lo = [i for i in doc["interfaces"] if i["name"] == "lo"]
    check(len(lo) == 1, f"topology lo does not list lo: {r.stdout[:300]!r}")
    check(lo[0]["source"] == "cpus", f"lo's source is {lo[0]['source']!r}, "
          f"not 'cpus' (the fallback)")
    allowed = os.sched_getaffinity(0)
    cpus = sorted(w["cpu"] for w in doc["workers"])
    check(set(cpus) <= allowed and len(cpus) == len(set(cpus)) and cpus,
          f"lo's plan {cpus} is not one worker per allowed CPU "
          f"{sorted(allowed)}")
    r = run(["topology", "lo"])
    text = r.stdout + r.stderr
    check(r.returncode == 0, f"topology lo exited {r.returncode}")
    check(re.search(r"one worker per (allowed )?CPU", text, re.I),
          f"topology lo does not say it falls back to one worker per CPU: "
          f"{text.strip()[:400]!r}")
    say(f"topology: contract keys ok, lo falls back to CPUs {cpus}")


def test_topology_defaults():
    """Without -c, topology plans what the daemon runs with its built-in
    defaults (loopback listeners), as doctor does: not every interface of
    the machine."""
    r = run(["topology", "--json"])
    check(r.returncode == 0, f"topology --json exited {r.returncode}")
    doc = json.loads(r.stdout)
    names = [i["name"] for i in doc["interfaces"]]
    check(names == ["lo"], f"topology without -c shows {names}, not the "
          f"defaults' loopback interface ['lo']")
    r = run(["doctor", "--json"])
    plan = [f for f in json.loads(r.stdout)["findings"]
            if f["check"] == "plan"]
    m = re.match(r"(\d+) workers? on CPUs? ", plan[0]["why"] if plan else "")
    check(m and int(m.group(1)) == len(doc["workers"]), f"topology plans "
          f"{len(doc['workers'])} workers, doctor: {plan}")
    say(f"topology without -c: {names}, {len(doc['workers'])} workers as "
        f"doctor says")


def test_topology_narrowed():
    """Under boot binding the inherited mask is the housekeeping set: the
    plan must still use every CPU of the cpuset, as under taskset -c 0."""
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2 or 0 not in allowed:
        say("topology under taskset -c 0: skipped, needs CPUs 0 and 1")
        return
    os.sched_setaffinity(0, {0})
    try:
        r = run(["topology", "--json", "lo"])
    finally:
        os.sched_setaffinity(0, allowed)
    check(r.returncode == 0, f"topology lo on CPU 0 exited {r.returncode}")
    cpus = {w["cpu"] for w in json.loads(r.stdout)["workers"]}
    # The cpuset holds at least the CPUs this test may run on.
    check(allowed <= cpus, f"run with affinity {{0}}, the plan uses CPUs "
          f"{sorted(cpus)}, not every CPU of the cpuset {sorted(allowed)}")
    say(f"topology under affinity {{0}}: workers on {sorted(cpus)}")


def test_usage():
    for args in (["--no-such-option"], ["-Z"], ["topology", "--bogus"],
                 ["status", "--bogus"], ["no-such-command"]):
        r = run(args)
        check(r.returncode == EXIT_USAGE, f"affinityd {' '.join(args)} "
              f"exited {r.returncode}, not {EXIT_USAGE}")
        check("usage" in r.stderr.lower(), f"affinityd {' '.join(args)} "
              f"prints no usage on stderr: {r.stderr.strip()[:200]!r}")


def test_status_no_daemon():
    d = tempdir()
    sock = os.path.join(d, "nobody.sock")
    r = run(["status", "-s", sock])
    check(r.returncode != 0, "status with no daemon exited 0")
    check(sock in r.stderr, f"status with no daemon does not name the "
          f"socket {sock}: {r.stderr.strip()!r}")
    conf = write(d, "a.conf",
                 f'daemon = {{ admin_socket = "{d}/a.sock"; }};\n')
    r = run(["status", "-c", conf, "--json"])
    check(r.returncode != 0, "status -c with no daemon exited 0")
    check(f"{d}/a.sock" in r.stderr, f"status -c with no daemon does not "
          f"name the socket {d}/a.sock: {r.stderr.strip()!r}")
    check(r.stdout.strip() == "", f"status with no daemon printed "
          f"{r.stdout!r} on stdout")


def run_with_stderr(args, path, env):
    """Runs affinityd ARGS with stderr written to PATH; returns (exit
    status, what it wrote there)."""
    with open(path, "w") as err:
        r = subprocess.run([binary()] + args, env=env, text=True,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=err, timeout=30)
    with open(path) as f:
        return r.returncode, f.read()


def test_journal_priority():
    """When stderr is the journal (JOURNAL_STREAM names its device and
    inode) a refused start or reload must reach it as errors, not as plain
    output at info.  A JOURNAL_STREAM that names another stream (inherited
    by a command whose stderr is a terminal or a file) changes nothing."""
    d = tempdir()
    bad = write(d, "bad.conf", "daemon = { max_connections = 5;\n")
    errpath = os.path.join(d, "stderr")
    open(errpath, "w").close()
    st = os.stat(errpath)
    journal = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
    other = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino + 1}")
    for args in (["-c", bad], ["reload", "--wait", "-c", bad]):
        rc, err = run_with_stderr(args, errpath, journal)
        lines = err.strip().splitlines()
        check(rc == EXIT_CONFIG, f"affinityd {' '.join(args)} "
              f"exited {rc}, not {EXIT_CONFIG}")
        check(lines and all(ln.startswith("<3>") for ln in lines),
              f"affinityd {' '.join(args)} under the journal: not every "
              f"error line has the <3> priority: {err!r}")
        check(any(f"{bad}:2: syntax error" in ln for ln in lines),
              f"affinityd {' '.join(args)}: no {bad}:2: error: {err!r}")
        for env in (None, other):
            rc, err = run_with_stderr(args, errpath, env)
            check(not err.startswith("<"), f"affinityd {' '.join(args)} "
                  f"with stderr not the journal prefixes a priority "
                  f"(JOURNAL_STREAM {'set' if env else 'unset'}): {err!r}")
    # A command's usage error goes through the same reporter.
    rc, err = run_with_stderr(["bind", "0-1"], errpath, journal)
    lines = err.strip().splitlines()
    check(rc == EXIT_USAGE and lines and
          all(ln.startswith("<3>") for ln in lines),
          f"affinityd bind 0-1 under the journal exited {rc}, or a line "
          f"has no <3> priority: {err!r}")
    say("cli: a refused start, reload and bind log at error priority "
        "under the journal, and only there")


def test_log_severity():
    """In the foreground a warning says it is one; under the journal the
    priority says it."""
    d = tempdir()
    conf = write(d, "iface.conf", f"""daemon = {{ admin_socket = "{d}/a.sock"; }};
topology = {{ interfaces = ["nosuch0"]; }};
""")
    errpath = os.path.join(d, "stderr")
    rc, err = run_with_stderr(["-t", "-c", conf], errpath, None)
    check(re.search(r"^affinityd: warning: nosuch0: no such interface", err,
                    re.M), f"the foreground warning does not say "
          f"'warning:': {err!r}")
    st = os.stat(errpath)
    env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
    rc, err = run_with_stderr(["-t", "-c", conf], errpath, env)
    check(re.search(r"^<4>affinityd: nosuch0: no such interface", err, re.M),
          f"under the journal the warning has no <4> priority: {err!r}")
    say("cli: warnings say so in the foreground, <4> under the journal")


def main():
    test_help_version()
    test_check_config()
    test_topology()
    test_topology_defaults()
    test_topology_narrowed()
    test_usage()
    test_status_no_daemon()
    test_journal_priority()
    test_log_severity()
    say("cli: all checks passed")


if __name__ == "__main__":
    main()
