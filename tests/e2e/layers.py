# SPDX-License-Identifier: BSD-2-Clause
"""No include reaches up a layer: every daemon/**/*.[ch] includes headers of
its own folder or of a lower layer only, by their path below daemon/
("topology/plan.h", never a bare "plan.h").  The layers are those of
docs/architecture.md: common 0, config 1, topology 2, worker 3 and doctor 3
(which may not include each other), master 4, cli 5, daemon/main.c 6.  Each
include that breaks the rule is named as FILE:LINE."""
import sys
sys.dont_write_bytecode = True

import os
import re

from affinityd_test import check, fail, say, srcdir

LAYERS = {
    "common": 0,
    "config": 1,
    "topology": 2,
    "worker": 3,
    "doctor": 3,
    "master": 4,
    "cli": 5,
}
# Files directly in daemon/ (main.c) sit above every folder.
TOP_LAYER = 6

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def sources(daemon):
    found = []
    for root, dirs, files in os.walk(daemon):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".c", ".h")):
                found.append(os.path.join(root, name))
    return found


def folder_of(daemon, path):
    """The daemon folder a file is in, or None for daemon/ itself."""
    rel = os.path.relpath(path, daemon)
    return rel.split(os.sep)[0] if os.sep in rel else None


def layer_of(folder):
    return TOP_LAYER if folder is None else LAYERS.get(folder)


def problem(daemon, folder, target, headers):
    """Why including "target" from a file of folder breaks the rule, or
    None when it does not."""
    if "/" not in target:
        if target in headers:
            return (f'includes "{target}" by its bare name: write '
                    f'"{headers[target]}"')
        return None
    to = target.split("/")[0]
    if to not in LAYERS:
        return None
    if not os.path.isfile(os.path.join(daemon, target)):
        return f'includes "{target}", which is not a header of daemon/'
    if to == folder:
        return None
    mine, theirs = layer_of(folder), LAYERS[to]
    where = "daemon/" if folder is None else f"{folder}/"
    if theirs > mine:
        return (f'includes "{target}": {where} (layer {mine}) may not '
                f'include {to}/ (layer {theirs})')
    if theirs == mine:
        return (f'includes "{target}": {where} and {to}/ share layer '
                f'{mine} and may not include each other')
    return None


def main():
    top = srcdir()
    daemon = os.path.join(top, "daemon")
    files = sources(daemon)
    check(len(files) > 20, f"found {len(files)} sources under {daemon}")
    headers = {}
    for path in files:
        if path.endswith(".h"):
            headers[os.path.basename(path)] = os.path.relpath(path, daemon)
    unknown = sorted({folder_of(daemon, p) for p in files} - set(LAYERS) -
                     {None})
    check(not unknown, f"daemon/ has folders without a layer: {unknown} "
          "(add them to LAYERS here and to docs/architecture.md)")
    problems = []
    includes = 0
    for path in files:
        folder = folder_of(daemon, path)
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m is None:
                    continue
                includes += 1
                why = problem(daemon, folder, m.group(1), headers)
                if why is not None:
                    rel = os.path.relpath(path, top)
                    problems.append(f"{rel}:{lineno}: {why}")
    if problems:
        fail(f"{len(problems)} include(s) break the layers of "
             "docs/architecture.md:\n" + "\n".join(problems))
    say(f"layers: {includes} includes in {len(files)} files, none reaches "
        "up a layer or across worker/ and doctor/")


if __name__ == "__main__":
    main()
