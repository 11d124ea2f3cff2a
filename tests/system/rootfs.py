# SPDX-License-Identifier: BSD-2-Clause
"""The Debian 12 root file system the system test boots, built once.

debootstrap --variant=minbase with the packages the container needs (systemd
as PID 1 and the daemon's shared libraries), cached outside the build tree
under a directory named after a hash of what went into it, so a change of the
package list builds a new one and every other run reuses it.  The build goes
to a temporary directory renamed into place when complete: an interrupted
build never leaves a cache entry that looks usable.  A lock file keeps two
runs from building the same entry at once.
"""
import fcntl
import hashlib
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.parse

CACHE = os.environ.get("AFFINITYD_SYSTEM_CACHE",
                       "/var/cache/affinityd-system-test")
SUITE = "bookworm"
APT_SOURCES = "/etc/apt/sources.list"
APT_SOURCES_DIR = "/etc/apt/sources.list.d"


def _one_line_sources(text):
    """(URI, suites) of each "deb" line of a sources.list."""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 3 and words[0] == "deb":
            words = [w for w in words[1:] if not w.startswith("[")
                     and not w.endswith("]") and "=" not in w]
            if len(words) >= 2:
                yield words[0], words[1:2]


def _deb822_sources(text):
    """(URI, suites) of each "Types: deb" stanza of a .sources file."""
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
            if m and not line.startswith("#"):
                fields[m.group(1).lower()] = m.group(2).split()
        if "deb" in fields.get("types", []) and \
                fields.get("enabled", ["yes"])[0] != "no":
            for uri in fields.get("uris", []):
                yield uri, fields.get("suites", [])


def host_mirror(suite=SUITE):
    """The Debian archive this host's apt uses for SUITE, read from its
    sources (one-line and deb822 formats), or None: the tree names no
    mirror of its own."""
    files = [APT_SOURCES]
    if os.path.isdir(APT_SOURCES_DIR):
        files += sorted(os.path.join(APT_SOURCES_DIR, f)
                        for f in os.listdir(APT_SOURCES_DIR)
                        if f.endswith((".list", ".sources")))
    for path in files:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        parse = _deb822_sources if path.endswith(".sources") \
            else _one_line_sources
        for uri, suites in parse(text):
            if suite in suites:
                return uri.rstrip("/")
    return None


MIRROR = os.environ.get("AFFINITYD_MIRROR") or host_mirror()
# systemd as PID 1, and what the package's Depends resolve to on bookworm, so
# that the freshly built .deb installs with dpkg alone inside a container
# without network.
PACKAGES = ("systemd", "systemd-sysv", "dbus", "libevent-2.1-7",
            "libevent-core-2.1-7", "libconfig9", "libjansson4", "libmnl0",
            "libhttp-parser2.9", "libsystemd0")
# Beside a finished root file system.
STAMP = "complete"


def key(packages=PACKAGES, extra=""):
    text = "\n".join([SUITE, "minbase", MIRROR or "", extra] + sorted(packages))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def registry_reachable(timeout=5.0):
    if not MIRROR:
        return False
    url = urllib.parse.urlsplit(MIRROR)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port),
                                 timeout=timeout).close()
        return True
    except OSError:
        return False


def build(path, packages, log):
    """debootstrap into PATH; raises CalledProcessError on failure."""
    cmd = ["debootstrap", "--variant=minbase",
           "--include=" + ",".join(packages), SUITE, path, MIRROR]
    subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log,
                   stderr=subprocess.STDOUT, check=True, timeout=900)
    # No apt caches in the image; a machine id is made at each boot.
    for d in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for name in os.listdir(os.path.join(path, d)):
            p = os.path.join(path, d, name)
            if os.path.isfile(p) and name.endswith((".deb", "_Packages")):
                os.unlink(p)
    open(os.path.join(path, "etc/machine-id"), "w").close()


def get(packages=PACKAGES, extra="", prepare=None, say=print):
    """The path of a finished root file system for PACKAGES, building it
    when missing.  PREPARE(path), when given, runs on a fresh build before it
    is marked finished (EXTRA names it in the key).  Returns (path,
    seconds spent building, 0 when cached), or (None, why) when it cannot be
    built here."""
    os.makedirs(CACHE, exist_ok=True)
    entry = os.path.join(CACHE, key(packages, extra))
    root = os.path.join(entry, "rootfs")
    with open(entry + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(entry, STAMP)):
            return root, 0.0
        if shutil.which("debootstrap") is None:
            return None, "debootstrap is not installed"
        if not MIRROR:
            return None, (f"no {SUITE} archive in this host's apt sources "
                          f"({APT_SOURCES}, {APT_SOURCES_DIR}); set "
                          "AFFINITYD_MIRROR")
        if not registry_reachable():
            return None, f"no network to the package registry ({MIRROR})"
        say(f"building the {SUITE} root file system in {entry} (once)")
        t0 = time.monotonic()
        tmp = entry + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(entry, ignore_errors=True)
        os.makedirs(tmp)
        with open(entry + ".log", "w") as log:
            try:
                build(os.path.join(tmp, "rootfs"), packages, log)
                if prepare:
                    prepare(os.path.join(tmp, "rootfs"), log)
            except (subprocess.CalledProcessError,
                    subprocess.TimeoutExpired) as e:
                shutil.rmtree(tmp, ignore_errors=True)
                raise RuntimeError(f"{e}; see {entry}.log") from e
        open(os.path.join(tmp, STAMP), "w").close()
        os.rename(tmp, entry)
        return root, time.monotonic() - t0


BACKPORTS = f"deb {MIRROR} {SUITE}-backports main\n"
# Type=notify-reload came with systemd 253.
NOTIFY_RELOAD_SYSTEMD = 253
# How long a finding that the backports have no systemd 253 is trusted.
NEGATIVE_TTL = 24 * 3600


def in_root(path, cmd, log):
    """Runs CMD with sh chrooted in PATH, /proc and /dev mounted in a
    mount namespace of its own (gone when it exits), the host's network."""
    script = (f'mount -t proc proc "{path}/proc" && '
              f'mount --rbind /dev "{path}/dev" && '
              f'exec chroot "{path}" /usr/bin/env -i '
              'PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive '
              f'/bin/sh -c \'{cmd}\'')
    return subprocess.run(["unshare", "--mount", "--propagation", "private",
                           "sh", "-c", script], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=log, text=True,
                          check=True, timeout=600).stdout


def backports_systemd(policy):
    """The newest systemd version that "apt-cache policy systemd" lists from
    the backports, or None."""
    best = None
    lines = policy.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"\s+(?:\*\*\* )?(\d+)\S*\s+\d+$", line)
        if m and i + 1 < len(lines) and "-backports" in lines[i + 1]:
            v = int(m.group(1))
            best = v if best is None else max(best, v)
    return best


def get_backports(say=print):
    """Like get(), with systemd from bookworm-backports when it is 253 or
    later; (None, why) when it is not."""
    base, built = get(say=say)
    if base is None:
        return base, built
    entry = os.path.join(CACHE, key(extra="backports-systemd"))
    root = os.path.join(entry, "rootfs")
    missing = entry + ".unavailable"
    with open(entry + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(entry, STAMP)):
            return root, 0.0
        if (os.path.exists(missing) and
                time.time() - os.path.getmtime(missing) < NEGATIVE_TTL):
            with open(missing) as f:
                return None, f.read().strip()
        if not MIRROR:
            return None, (f"no {SUITE} archive in this host's apt sources "
                          f"({APT_SOURCES}, {APT_SOURCES_DIR}); set "
                          "AFFINITYD_MIRROR")
        if not registry_reachable():
            return None, f"no network to the package registry ({MIRROR})"
        say(f"building the {SUITE} root file system with systemd from "
            f"{SUITE}-backports in {entry} (once)")
        t0 = time.monotonic()
        tmp = entry + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        path = os.path.join(tmp, "rootfs")
        with open(entry + ".log", "w") as log:
            try:
                subprocess.run(["cp", "-a", base, path], check=True)
                with open(os.path.join(path, "etc/apt/sources.list.d/"
                                       "backports.list"), "w") as f:
                    f.write(BACKPORTS)
                in_root(path, "apt-get -q update", log)
                policy = in_root(path, "apt-cache policy systemd", log)
                log.write(policy)
                version = backports_systemd(policy)
                if version is None or version < NOTIFY_RELOAD_SYSTEMD:
                    why = (f"{SUITE}-backports has no systemd "
                           f"{NOTIFY_RELOAD_SYSTEMD} or later (apt-cache "
                           f"policy: {version or 'none'})")
                    with open(missing, "w") as f:
                        f.write(why + "\n")
                    shutil.rmtree(tmp, ignore_errors=True)
                    return None, why
                in_root(path, f"apt-get -q -y -t {SUITE}-backports install "
                        "--no-install-recommends systemd systemd-sysv "
                        "libsystemd0 && apt-get clean && "
                        "rm -rf /var/lib/apt/lists/*", log)
            except (subprocess.CalledProcessError,
                    subprocess.TimeoutExpired) as e:
                shutil.rmtree(tmp, ignore_errors=True)
                raise RuntimeError(f"{e}; see {entry}.log") from e
        open(os.path.join(tmp, STAMP), "w").close()
        shutil.rmtree(entry, ignore_errors=True)
        os.rename(tmp, entry)
        return root, time.monotonic() - t0
