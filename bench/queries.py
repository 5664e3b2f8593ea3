"""The SQL statements of the pages that list rows, at two sizes, run by hand: ``.venv/bin/python bench/queries.py``.

It runs ``tests/architecture/test_queries.py`` on PostgreSQL (the walk over every GET page at a few rows of
everything, then ten more of each kind) and writes the counts of the list and detail pages the issue named in
the "## Page statements" section of docs/performance.md (``--no-docs`` to leave it alone). The test fails on
any page whose count grows; this only reports the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime

from common import ROOT, write_section

# (label, the URL's end, the figures before issue 13 from the issue: rows 2 → 20)
PAGES = (
    ("Roster", "/sessions/1/roster", "9 → 27"),
    ("Session", "/sessions/1", "14 → 32"),
    ("Training", "/trainings/1", "12 → 48"),
    ("Sign-in links", "/sessions/1/links", "34 → 160 (and writes on a GET)"),
    ("Participant", "/participants/1", ""),
    ("Calendar", "/calendar", ""),
    ("Participants", "/participants/", ""),
    ("Messages", "/messages", ""),
    ("Staff console", "/staff/", ""),
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        report = os.path.join(scratch, "counts.json")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-k",
                "postgresql",
                "tests/architecture/test_queries.py",
            ],
            cwd=ROOT,
            env={**os.environ, "EMARGE_QUERY_REPORT": report},
            capture_output=True,
            text=True,
        )
        if not os.path.exists(report):
            sys.exit(f"the walk did not run:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        with open(report) as f:
            counts = json.load(f)
    rows = []
    for label, end, before in PAGES:
        url = next(u for u in counts if u.endswith(end) and (end != "/sessions/1" or u.count("/") == 3))
        status, small, large = counts[url]
        rows.append(f"| {label} (`{url}`) | {small} | {large} | {before or '—'} |")
    grew = [u for u, (_, small, large) in counts.items() if large > small]
    text = f"""## Page statements

Counted by `bench/queries.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on PostgreSQL: the walk of
`tests/architecture/test_queries.py` over all {len(counts)} GET pages, signed in as the organization's admin (the
staff console's as staff), first with a few rows of everything, then with ten more of each kind (trainings,
sessions, trainees enrolled and signed, messages, documents, users, logins, tasks; organizations and policy
versions on the platform). Each page is requested twice and the second is counted: the organization and the
policy versions come from the process's copies (`tenants/lookups.py`), as in a warm process.

| Page | Statements, a few rows | With ten more of each | Before issue 13 (the issue's figures, 2 → 20 rows) |
|---|---|---|---|
{chr(10).join(rows)}

Pages whose count grew with the rows: {len(grew)} ({", ".join(grew) if grew else "none"}). The test fails on any.
"""
    print(text)
    if not args.no_docs:
        write_section(text)


if __name__ == "__main__":
    main()
