"""The test suite's wall time at two commits, back to back on this machine (issue 13's target: under 60 %).

    .venv/bin/python bench/suite.py --before 9630975 [--after HEAD]

Each commit is cloned into a scratch folder and its whole suite run with this checkout's virtual environment
(the lock file did not change between them), PostgreSQL, Redis and Chromium as CI has them. Prints the two
wall times and their ratio and writes them in the "## Test suite wall time" section of docs/performance.md
(``--no-docs`` to leave it alone). A suite that fails is still timed, and its summary says so.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

from common import load, machine, write_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HARNESS = """What the harness does since (tests/conftest.py): one PostgreSQL database per run, put back before each
test (the schemas a test used emptied and renamed back to spares, the platform emptied and reseeded, a
structural fingerprint deciding when one must be dropped); tenants adopted from ready blank schemas, or copied
from a blank file on SQLite, instead of running the DDL; apps kept from one test to the next and made as new
(building one compiled 120 URL rules and read the catalogs, about a quarter of a second); one Chromium and one
SMTP server per run, a fresh browser context and mailbox per test; the `live_server` fixture written once; the
fault tests' workers notice a dead worker in seconds (`WORKER_*` settings) instead of the production
half-minute. Per-test rollback is not used: nearly every test commits through the app's own sessions, many from
other threads or processes (live servers, RQ workers), which one outer transaction cannot hold."""


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
        summary = summary.strip("= ")
        if done.returncode != 0:
            print(f"{commit}: the suite failed: {summary}", file=sys.stderr)
        return elapsed, summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", required=True, help="the commit before the harness change")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    after_commit = subprocess.run(
        ["git", "-C", ROOT, "rev-parse", "--short", args.after], capture_output=True, text=True, check=True
    ).stdout.strip()
    load_start = load()
    before, before_summary = run_suite(args.before)
    after, after_summary = run_suite(after_commit)
    ratio = after / before
    m = machine("redis://127.0.0.1:6379/13")
    text = f"""## Test suite wall time

Measured by `bench/suite.py --before {args.before}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, the two suites back
to back on this machine ({m["cpus"]} CPU, {m["cpu"]}, {m["ram"]} RAM; PostgreSQL {m["postgresql"]}, Redis
{m["redis"]}, Chromium, Python {m["python"]}), each from a fresh clone, with PostgreSQL, Redis and the browser
required as CI has them. Load average {load_start} before, {load()} after.

| Commit | Tests | Wall time |
|---|---|---|
| {args.before} (the commit before issue 13) | {before_summary} | {before:.0f} s |
| {after_commit} (after) | {after_summary} | {after:.0f} s |

**{ratio:.0%}** of the time before (target: under 60 %): {"met" if ratio < 0.6 else "missed"}.

{HARNESS}
"""
    print(text)
    if not args.no_docs:
        write_section(text)


if __name__ == "__main__":
    main()
