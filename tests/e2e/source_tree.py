# SPDX-License-Identifier: BSD-2-Clause
"""What a packager reads before anything runs: the licence, a licence
identifier at the top of every source file, and man pages whose header
carries a full date and the version that "affinityd --version" prints."""
import sys
sys.dont_write_bytecode = True

import os
import re

from affinityd_test import check, run, say, srcdir

SOURCE_DIRS = ("daemon", "tests", "scripts")
SPDX = "SPDX-License-Identifier: BSD-2-Clause"
MAN_PAGES = ("daemon/affinityd.8", "conf/affinityd.conf.5")


def source_files(top):
    """The C, Python and shell sources below the source directories."""
    for d in SOURCE_DIRS:
        for root, dirs, files in os.walk(os.path.join(top, d)):
            dirs[:] = [x for x in dirs if x not in ("fixtures", "corpus",
                                                    "__pycache__")]
            for name in files:
                path = os.path.join(root, name)
                if name.endswith((".c", ".h", ".py")):
                    yield path
                elif "." not in name and os.access(path, os.X_OK):
                    yield path          # scripts: bench, test, init.d, ...


def test_licence(top):
    text = open(os.path.join(top, "LICENSE")).read()
    check("BSD 2-Clause License" in text, "LICENSE is not the BSD 2-clause "
          "licence")
    missing = []
    count = 0
    for path in source_files(top):
        count += 1
        with open(path, errors="replace") as f:
            head = [f.readline() for _ in range(3)]
        if not any(SPDX in line for line in head):
            missing.append(os.path.relpath(path, top))
    check(count > 50, f"only {count} source files found below {top}")
    check(not missing, f"no '{SPDX}' in the first lines of: "
          f"{', '.join(missing)}")
    say(f"{count} source files carry the licence identifier")


def test_man_headers(top):
    version = run(["--version"]).stdout.split()[1]
    for page in MAN_PAGES:
        th = next((line for line in open(os.path.join(top, page))
                   if line.startswith(".TH ")), "")
        m = re.match(r'\.TH \S+ \d "(\d{4}-\d{2}-\d{2})" "affinityd ([^"]+)"',
                     th)
        check(m, f"{page}: the .TH line has no full date and version: "
              f"{th.strip()!r}")
        check(m.group(2) == version, f"{page} is for affinityd "
              f"{m.group(2)}, the binary is {version}")
        say(f"{page}: {m.group(1)}, affinityd {m.group(2)}")


def main():
    top = srcdir()
    test_licence(top)
    test_man_headers(top)
    say("PASS")


if __name__ == "__main__":
    main()
