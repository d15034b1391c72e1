"""Does docs/benchmarks.md describe the code? The rule is the one of the team's
before-stop hook: the commit the report names must contain the last commit that changed
runtime code. A report says so plainly when it does not (STALE_MARKER), either because
the run was on a tree with uncommitted runtime changes or because someone marked it:

    python -m bench.freshness --mark-stale   # after a runtime change, until the next run
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

from bench import DOC, ROOT

RUNTIME_PATHS = (
    "messaging",
    "accounts",
    "cruddur",
    "health",
    "templates",
    "static",
    "requirements.lock",
    # The tests beside the code do not ship: a test-only commit leaves the report true.
    ":(exclude,glob)**/tests/**",
)
STALE_MARKER = "**This report is stale:**"
COMMIT = re.compile(r"commit `([0-9a-f]{7,40})`")


def git(*args: str, root: Path = ROOT) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.rstrip()


def tree_state(root: Path = ROOT) -> dict:
    """The commit a run measures, and which runtime paths differed from it."""
    runtime = git("status", "--porcelain", "--", *RUNTIME_PATHS, root=root).splitlines()
    changed = git("status", "--porcelain", root=root).splitlines()
    return {
        "commit": git("rev-parse", "HEAD", root=root),
        "dirty_runtime_paths": sorted(line[3:] for line in runtime),
        "dirty": bool(changed),
        "dirty_paths": sorted(line[3:] for line in changed),
    }


def last_runtime_change(root: Path = ROOT) -> str:
    return git("log", "-1", "--format=%H", "--", *RUNTIME_PATHS, root=root)


def report_commit(text: str) -> str | None:
    match = COMMIT.search(text)
    return match[1] if match else None


def problem(text: str, root: Path = ROOT) -> str | None:
    """Why the report does not describe the code, or None when it does (or says it
    does not)."""
    if STALE_MARKER in text:
        return None
    named = report_commit(text)
    if named is None:
        return "docs/benchmarks.md names no commit"
    last = last_runtime_change(root)
    ancestor = subprocess.run(
        ["git", "-C", str(root), "merge-base", "--is-ancestor", last, named], capture_output=True
    )
    if ancestor.returncode == 0:
        return None
    return (
        f"docs/benchmarks.md describes {named}, but runtime code changed in {last[:7]}"
        " after it (or that commit is not in this history): run `make bench`, or"
        " `python -m bench.freshness --mark-stale` until you do"
    )


def stale_note(last: str, named: str) -> str:
    return (
        f"{STALE_MARKER} it was measured at `{named[:7]}`; runtime code has changed since"
        f" (last in `{last[:7]}`). Rerun `make bench` before trusting its numbers."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mark-stale", action="store_true", help="say so at the top of the report"
    )
    args = parser.parse_args(argv)
    text = DOC.read_text()
    found = problem(text)
    if found is None:
        print("docs/benchmarks.md describes the code (or says it is stale)")
        return 0
    if not args.mark_stale:
        print(found, file=sys.stderr)
        return 1
    title, rest = text.split("\n", 1)
    note = stale_note(last_runtime_change(), report_commit(text) or "unknown")
    DOC.write_text(f"{title}\n\n{note}\n{rest}")
    print(f"marked {DOC} stale")
    return 0


if __name__ == "__main__":
    sys.exit(main())
