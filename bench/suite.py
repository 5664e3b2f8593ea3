"""The test suite's wall time at two commits, back to back on this machine (issue 13's target: under 60 %).

    .venv/bin/python bench/suite.py --before 9630975 [--after HEAD]

Each commit is cloned into a scratch folder and its whole suite run with this checkout's virtual environment
(the lock file did not change between them), PostgreSQL, Redis and Chromium as CI has them. Prints the two
wall times and their ratio, to copy into docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_suite(commit: str) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as scratch:
        checkout = os.path.join(scratch, "main")
        subprocess.run(["git", "clone", "-q", ROOT, checkout], check=True)
        subprocess.run(["git", "-C", checkout, "checkout", "-q", commit], check=True)
        os.symlink(os.path.join(ROOT, ".venv"), os.path.join(checkout, ".venv"))
        started = time.monotonic()
        done = subprocess.run(
            [
                os.path.join(checkout, ".venv", "bin", "python"),
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            cwd=checkout,
            capture_output=True,
            text=True,
            env={**os.environ, "EMARGE_REQUIRE_SERVICES": "1"},
        )
        elapsed = time.monotonic() - started
        summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
        if done.returncode != 0:
            sys.exit(f"{commit}: the suite failed: {summary}")
        return elapsed, summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", required=True, help="the commit before the harness change")
    parser.add_argument("--after", default="HEAD")
    args = parser.parse_args()
    before, before_summary = run_suite(args.before)
    after, after_summary = run_suite(args.after)
    load = os.getloadavg()[0]
    lines = [
        f"- before ({args.before}): {before:.0f} s — {before_summary}",
        f"- after ({args.after}): {after:.0f} s — {after_summary}",
        f"- ratio: {after / before:.0%} (target: under 60 %); load average after the runs: {load:.1f}",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
