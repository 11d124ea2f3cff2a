# SPDX-License-Identifier: BSD-2-Clause
"""Every shell script of the tree passes shellcheck: the scripts under
scripts/ that start with #!/bin/sh or #!/bin/bash, the init scripts under
scripts/init.d/, .ci/run, autogen.sh and debian/postinst.  Each finding is
listed as FILE:LINE:COLUMN: message."""
import sys
sys.dont_write_bytecode = True

import os
import shutil
import subprocess

from affinityd_test import check, fail, say, skip, srcdir

SHEBANGS = ("#!/bin/sh", "#!/bin/bash", "#!/usr/bin/env bash",
            "#!/usr/bin/env sh")


def is_shell(path):
    try:
        with open(path, "rb") as f:
            first = f.readline().decode("utf-8", "replace").strip()
    except OSError:
        return False
    return any(first == s or first.startswith(s + " ") for s in SHEBANGS)


def scripts(top):
    found = []
    for sub in ("scripts", os.path.join("scripts", "init.d")):
        d = os.path.join(top, sub)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if os.path.isfile(path) and is_shell(path):
                found.append(path)
    # Not shipped in the release tarball: checked when present.
    for rel in (os.path.join(".ci", "run"), "autogen.sh",
                os.path.join("debian", "postinst")):
        path = os.path.join(top, rel)
        if os.path.isfile(path) and is_shell(path):
            found.append(path)
    return found


def main():
    if shutil.which("shellcheck") is None:
        skip("shellcheck is not installed (scripts/setup-deps installs it)")
    top = srcdir()
    files = scripts(top)
    init = [f for f in files if os.sep + "init.d" + os.sep in f]
    check(len(init) >= 2, f"found the init scripts {init} under "
          f"{top}/scripts/init.d, not affinityd and affinityd-bind")
    r = subprocess.run(["shellcheck", "--format=gcc"] + files,
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        findings = (r.stdout + r.stderr).strip()
        fail(f"shellcheck found problems in the shell scripts:\n"
             f"{findings.replace(top + os.sep, '')}")
    say(f"shellcheck: {len(files)} scripts clean: "
        f"{' '.join(os.path.relpath(f, top) for f in files)}")


if __name__ == "__main__":
    main()
