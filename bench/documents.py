"""Documents benchmark on PostgreSQL, run by hand: ``.venv/bin/python bench/documents.py``.

Times, in the same run and interleaved, over ``--runs`` runs after a warm-up:
  (a) end to end: a 30-participant × 10-slot attendance sheet issued as a job issues it — the queries, the HTML,
      the xhtml2pdf render, the SHA-256 and the write to storage with its verification code, committed
      (``blueprints.documents.services.issue_document``; where that is missing, the same steps done here);
  (b) the bare ``html_to_pdf`` of the very HTML (a) draws, prepared beforehand.
The target is (a) within 1.5 × (b): everything around the render must stay small next to it.

It builds the session with the renderer tests' helper (tests/documents/conftest.py: signatures, lateness,
absences, sign-offs), works in a database of its own, ``emarge_bench_docs_<pid>``, created and dropped here,
and writes its figures in the "## Documents" section of docs/performance.md (``--no-docs`` to leave it alone).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import statistics
import sys
import time

from common import DOC, ROOT, load, machine, scratch, sqlalchemy_url, write_section

sys.path.insert(0, ROOT)

SLUG = "bench"
TARGET_RATIO = 1.5


def _make_tenant(app):
    """``make_tenant`` as the test fixture offers it, for the world builder."""
    from blueprints.accounts.models import ADMIN, FACILITATOR, Organization, User
    from tenants.db import utcnow
    from tenants.provisioning import NewTenant, provision

    def build(slug, *, admin=None, facilitators=(), name=None, language="fr"):
        def populate(session, ref):
            session.add(
                Organization(
                    name=name or slug,
                    address="1 rue X",
                    postal_code="75001",
                    city="Paris",
                    contact_email=admin or f"contact@{slug}.fr",
                )
            )
            for email, role in [(admin, ADMIN)] + [(f, FACILITATOR) for f in facilitators]:
                session.add(
                    User(
                        email=email,
                        first_name=email.split("@")[0].title(),
                        last_name=slug.title(),
                        role=role,
                        email_verified_at=utcnow(),
                    )
                )

        with app.app_context():
            return provision(NewTenant(slug=slug, name=name or slug, language=language), populate)

    return build


def _issuer():
    """D's issuing function when it exists, else the same steps here: query, render, hash, store."""
    try:
        from blueprints.documents.services import issue_document
    except ImportError:
        issue_document = None

    def issue(session, stamp):
        from blueprints.audit.services import Actor
        from blueprints.documents.models import SESSION_SHEET
        from blueprints.documents.render import render_document
        from tenants import current_tenant
        from tenants.storage import storage

        if issue_document is not None:
            return issue_document(
                SESSION_SHEET, session, tenant=current_tenant(), actor=Actor.system("bench"), language="fr"
            )
        rendered = render_document(SESSION_SHEET, session=session, stamp=stamp, language="fr")
        hashlib.sha256(rendered.pdf).hexdigest()
        return storage().put(rendered.pdf, content_type="application/pdf", filename="bench.pdf")

    return issue, ("`issue_document`" if issue_document is not None else "render + SHA-256 + `storage().put`")


def run(args) -> dict:
    from app import create_app
    from blueprints.documents.render import document_html, html_to_pdf, page_count
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.migrate import build_platform
    from tests.documents.conftest import build_sheet_world, stamp

    with scratch(f"emarge_bench_docs_{os.getpid()}") as (url, instance):
        url = sqlalchemy_url(url)
        app = create_app(
            {
                "SKIP_ENV": True,
                "INSTANCE_PATH": instance,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": url,
                "REDIS_URL": None,
                "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
                "SERVER_NAME": "127.0.0.1:5000",
            }
        )
        results: dict = {"participants": args.participants, "slots": args.slots, "runs": args.runs}
        with app.app_context(), db.engine.begin() as connection:
            build_platform(connection)
        results["machine"] = {**machine(), "load_start": load()}
        world = build_sheet_world(
            app,
            _make_tenant(app),
            slug=SLUG,
            participants=args.participants,
            slots=args.slots,
            distinct_signatures=True,
        )
        issue, results["path"] = _issuer()

        with tenant_scope(SLUG, app):
            session = db.session.get(TrainingSession, world.session_id)
            html = document_html("session_sheet", session=session, stamp=stamp(), language="fr")
            pdf = html_to_pdf(html)  # warm-up: fonts parsed, templates compiled
            results["pages"] = page_count(pdf)
            results["pdf_kib"] = len(pdf) / 1024
            results["html_kib"] = len(html.encode()) / 1024

        def end_to_end() -> float:
            with tenant_scope(SLUG, app):  # a fresh session: nothing already loaded
                started = time.perf_counter()
                issue(db.session.get(TrainingSession, world.session_id), stamp())
                db.session.commit()
                return time.perf_counter() - started

        def bare() -> float:
            with app.app_context():
                started = time.perf_counter()
                html_to_pdf(html)
                return time.perf_counter() - started

        end_to_end()  # warm-up of the issuing path
        full, render_only = [], []
        for n in range(args.runs):
            full.append(end_to_end())
            render_only.append(bare())
            print(
                f"run {n + 1}: end to end {full[-1]:.3f} s, bare render {render_only[-1]:.3f} s", flush=True
            )
        results["full"] = full
        results["bare"] = render_only
        results["machine"]["load_end"] = load()
        with app.app_context():
            db.engine.dispose()
        return results


def section(results: dict) -> str:
    m = results["machine"]
    full, bare = statistics.median(results["full"]), statistics.median(results["bare"])
    ratio = full / bare
    verdict = "within target" if ratio <= TARGET_RATIO else "**over target**"
    return f"""## Documents

Measured by `bench/documents.py` on {datetime.date.today().isoformat()}, PostgreSQL {m["postgresql"]}, on
{m["cpus"]} CPU ({m["cpu"]}), {m["ram"]} RAM, Python {m["python"]}. Load average (1, 5, 15 min) at the start
of the run {m["load_start"]}, at the end {m["load_end"]}: anything above {m["cpus"]} means other work shared the
machine, and the times grow with it.

A {results["participants"]}-participant × {results["slots"]}-slot attendance sheet (A4 landscape, {results["pages"]} pages,
{results["pdf_kib"]:.0f} KiB of PDF from {results["html_kib"]:.0f} KiB of HTML, a distinct signature thumbnail in most cells,
lateness, absences and the facilitator's sign-off under each slot),
{results["runs"]} runs each, interleaved, after a warm-up:

| What | Median | Min – max |
|---|---|---|
| (a) End to end: queries, HTML, render, SHA-256, stored with its code, committed ({results["path"]}) | {full:.3f} s | {min(results["full"]):.3f} – {max(results["full"]):.3f} s |
| (b) Bare `html_to_pdf` of the same HTML | {bare:.3f} s | {min(results["bare"]):.3f} – {max(results["bare"]):.3f} s |
| Ratio (a) / (b) | {ratio:.2f} × | target ≤ {TARGET_RATIO} ×: {verdict} |

The render itself is xhtml2pdf's, pure Python, one at a time per process (it holds a lock around ReportLab's
global font state): a worker issues documents one after another, and more workers issue more at once.
Run it again with `.venv/bin/python bench/documents.py` (`--help` for the sizes).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each case")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()
    results = run(args)
    text = section(results)
    print()
    print(text)
    if not args.no_docs:
        write_section(text)
        print(f"updated {os.path.relpath(DOC, ROOT)}")


if __name__ == "__main__":
    main()
