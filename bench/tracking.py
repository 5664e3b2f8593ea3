"""Tracking reports benchmark on PostgreSQL, run by hand: ``.venv/bin/python bench/tracking.py``.

Times the server's work for two pages, requested in-process as an admin (Flask's test client: no network, no
load generator), over ``--runs`` runs after a warm-up, and counts their SQL statements:
  (a) a session's attendance grid with ``--trainees`` trainees × ``--slots`` half-days (target: under 300 ms),
      every cell a mark (present, late, absent, excused), with its anomaly checks;
  (b) the organization's report over a year holding ``--sessions`` sessions (target: under 1 s), each of
      ``--per-session`` trainees and 6 half-days.
Both counts must not grow with the size: the script says so by counting a second, smaller world too.

It works in a database of its own, ``emarge_bench_tracking_<pid>``, created and dropped here, fills it with
bulk inserts (the figures are about reading), and writes the "## Tracking reports" section of
docs/performance.md (``--no-docs`` to leave it alone).
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import time

from common import ROOT, load, machine, main, scratch, sqlalchemy_url

sys.path.insert(0, ROOT)

SLUG = "bench"
PASSWORD = "bench-password-long-enough"
GRID_TARGET_MS = 300
REPORT_TARGET_MS = 1000
STATUSES = ("present", "present", "present", "late", "absent", "excused")


def _app(url: str, instance: str):
    from app import create_app
    from tenants.db import db
    from tenants.migrate import build_platform

    app = create_app(
        {
            "SKIP_ENV": True,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": None,
            "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context(), db.engine.begin() as connection:
        build_platform(connection)
    return app


def _tenant(app):
    from blueprints.accounts.models import ADMIN, Organization, User
    from blueprints.accounts.passwords import hash_password
    from tenants.db import utcnow
    from tenants.provisioning import NewTenant, provision

    def populate(session, ref):
        session.add(
            Organization(
                name="Bench", address="1 rue X", postal_code="75001", city="Paris", contact_email="a@b.fr"
            )
        )
        session.add(
            User(
                email="admin@bench.fr",
                first_name="Ada",
                last_name="Bench",
                role=ADMIN,
                email_verified_at=utcnow(),
                password_hash=hash_password(PASSWORD),
            )
        )

    with app.app_context():
        ref = provision(NewTenant(slug=SLUG, name="Bench", language="en"), populate)
    with app.app_context():
        from sqlalchemy import update

        from tenants.db import db
        from tenants.models import Tenant

        db.session.execute(update(Tenant).where(Tenant.id == ref.id).values(confirmed_at=utcnow()))
        db.session.commit()
    return ref


def _fill(
    app, ref, *, sessions: int, trainees: int, slots_per_session: int, start: datetime.date, title: str
):
    """``sessions`` sessions from ``start`` on, each ``trainees`` trainees × ``slots_per_session`` half-days
    (two a day), every cell marked; bulk inserts. Returns the first session's id."""
    from sqlalchemy import insert, select

    from blueprints.participants.models import Enrollment, Participant
    from blueprints.signing.models import Attendance, SlotState
    from blueprints.signing.roomcodes import new_secret
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    utc = datetime.UTC
    now = utcnow()
    with tenant_scope(ref, app):
        training = Training(title=title, planned_hours=7)
        db.session.add(training)
        db.session.flush()
        first_person = (
            db.session.scalar(select(Participant.id).order_by(Participant.id.desc()).limit(1)) or 0
        ) + 1
        db.session.execute(
            insert(Participant),
            [
                {
                    "first_name": f"P{first_person + n}",
                    "last_name": "Bench",
                    "email": f"p{first_person + n}@bench.fr",
                    "language": "fr",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(trainees)
            ],
        )
        people = list(db.session.scalars(select(Participant.id).where(Participant.id >= first_person)))
        first_session = None
        days = (slots_per_session + 1) // 2
        for k in range(sessions):
            day0 = start + datetime.timedelta(days=(k * 7) % 350)
            session = TrainingSession(
                training_id=training.id,
                start_date=day0,
                end_date=day0 + datetime.timedelta(days=days - 1),
                timezone="Europe/Paris",
                capacity=trainees,
            )
            db.session.add(session)
            db.session.flush()
            first_session = first_session or session.id
            db.session.execute(
                insert(Enrollment),
                [
                    {
                        "session_id": session.id,
                        "participant_id": p,
                        "funder": ("cpf", "opco")[p % 2],
                        "created_at": now,
                    }
                    for p in people
                ],
            )
            rows = []
            for n in range(slots_per_session):
                day = day0 + datetime.timedelta(days=n // 2)
                hour = 9 if n % 2 == 0 else 13
                begin = datetime.datetime(day.year, day.month, day.day, hour, tzinfo=utc)
                rows.append(
                    {
                        "session_id": session.id,
                        "day": day,
                        "kind": "custom",
                        "starts_at": begin,
                        "ends_at": begin + datetime.timedelta(hours=3),
                        "modality": "in_person",
                        "created_at": now,
                    }
                )
            db.session.execute(insert(Slot), rows)
            slot_ids = list(
                db.session.scalars(select(Slot.id).where(Slot.session_id == session.id).order_by(Slot.id))
            )
            db.session.execute(
                insert(SlotState),
                [{"slot_id": s, "room_secret": new_secret(), "signed_off_at": now} for s in slot_ids],
            )
            marks = []
            for i, slot_id in enumerate(slot_ids):
                for j, p in enumerate(people):
                    status = STATUSES[(i + j) % len(STATUSES)]
                    present = status in ("present", "late")
                    marks.append(
                        {
                            "slot_id": slot_id,
                            "participant_id": p,
                            "status": status,
                            "attended_minutes": 180
                            if status == "present"
                            else 160
                            if status == "late"
                            else 0,
                            "late_minutes": 20 if status == "late" else 0,
                            "early_minutes": 0,
                            "signature_sha256": f"{slot_id:032x}{p:032x}" if present else None,
                            "method": "own_link" if present else None,
                            "signed_at": None,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
            db.session.execute(insert(Attendance), marks)
        db.session.commit()
    return first_session


def _timed(app, client, path: str, runs: int) -> dict:
    from sqlalchemy import event

    from tenants.db import db

    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    with app.app_context():
        engine = db.engine
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    client.get(path)
    event.remove(engine, "before_cursor_execute", count)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    times.sort()
    return {
        "median": statistics.median(times),
        "p90": times[int(len(times) * 0.9) - 1],
        "min": times[0],
        "max": times[-1],
        "statements": len(statements),
        "bytes": len(response.data),
    }


def run(args) -> dict:
    from tests.conftest import login

    with scratch(f"emarge_bench_tracking_{os.getpid()}") as (url, instance):
        app = _app(sqlalchemy_url(url), instance)
        results: dict = {"machine": {**machine(), "load_start": load()}, "args": vars(args)}
        ref = _tenant(app)
        year_start = datetime.date.today() - datetime.timedelta(days=360)
        started = time.perf_counter()
        small_grid = _fill(
            app, ref, sessions=1, trainees=5, slots_per_session=4, start=year_start, title="Small"
        )
        grid = _fill(
            app,
            ref,
            sessions=1,
            trainees=args.trainees,
            slots_per_session=args.slots,
            start=year_start,
            title="Grid",
        )
        _fill(
            app,
            ref,
            sessions=args.sessions - 2,
            trainees=args.per_session,
            slots_per_session=6,
            start=year_start,
            title="Year",
        )
        results["fill_s"] = time.perf_counter() - started
        client = app.test_client()
        assert login(client, SLUG, "admin@bench.fr", PASSWORD).status_code == 303
        period = f"start={year_start.isoformat()}&end={datetime.date.today().isoformat()}"
        results["grid"] = _timed(app, client, f"/{SLUG}/sessions/{grid}/attendance", args.runs)
        results["small_grid"] = _timed(app, client, f"/{SLUG}/sessions/{small_grid}/attendance", 3)
        results["report"] = _timed(app, client, f"/{SLUG}/reports?{period}", args.runs)
        narrow = f"start={year_start.isoformat()}&end={(year_start + datetime.timedelta(days=6)).isoformat()}"
        results["small_report"] = _timed(app, client, f"/{SLUG}/reports?{narrow}", 3)
        results["funders"] = _timed(app, client, f"/{SLUG}/reports/funders?{period}", max(3, args.runs // 3))
        results["machine"]["load_end"] = load()
        return results


def section(results: dict) -> str:
    m, a = results["machine"], results["args"]
    grid, report, funders = results["grid"], results["report"], results["funders"]

    def verdict(value, target):
        return f"< {target} ms: **within target**" if value < target else f"< {target} ms: **missed**"

    def same(big, small):
        return "the same" if big == small else f"**{big} against {small}: grows**"

    return "\n".join(
        [
            "## Tracking reports",
            "",
            f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by `.venv/bin/python bench/tracking.py`"
            f" ({a['runs']} runs of each page after a warm-up, in-process through Flask's test client as an admin:"
            " the server's whole work for the request, no network).",
            "",
            f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['ram']} RAM, PostgreSQL {m['postgresql']}, Python"
            f" {m['python']}. Load average before the run {m['load_start']}, after {m['load_end']}.",
            f"Data: one session of {a['trainees']} trainees × {a['slots']} half-days (every cell marked), and"
            f" {a['sessions']} sessions over a year of {a['per_session']} trainees × 6 half-days each"
            f" ({results['fill_s']:.0f} s to insert).",
            "",
            "| page | median | p90 | min | max | SQL statements | target |",
            "|---|---|---|---|---|---|---|",
            f"| session grid, {a['trainees']} × {a['slots']}, with its anomaly checks | {grid['median']:.0f} ms |"
            f" {grid['p90']:.0f} ms | {grid['min']:.0f} ms | {grid['max']:.0f} ms | {grid['statements']} |"
            f" {verdict(grid['median'], GRID_TARGET_MS)} |",
            f"| organization report over a year, {a['sessions']} sessions | {report['median']:.0f} ms |"
            f" {report['p90']:.0f} ms | {report['min']:.0f} ms | {report['max']:.0f} ms | {report['statements']} |"
            f" {verdict(report['median'], REPORT_TARGET_MS)} |",
            f"| funders' completion figures over the same year | {funders['median']:.0f} ms | {funders['p90']:.0f} ms |"
            f" {funders['min']:.0f} ms | {funders['max']:.0f} ms | {funders['statements']} | (no target) |",
            "",
            f"Statements against a small world: the grid of 5 × 4 sends {results['small_grid']['statements']}"
            f" ({same(grid['statements'], results['small_grid']['statements'])}); the report over one week sends"
            f" {results['small_report']['statements']}"
            f" ({same(report['statements'], results['small_report']['statements'])}).",
            "The per-request statements are the login, the organization, and each report's fixed queries (sums by"
            " half-day and funder in SQL, the rest in memory); tests/tracking/test_statements.py checks the same on"
            " every run of the suite.",
            "",
            f"The funders' figures have no target: they compute one completion per enrolment"
            f" ({(a['sessions'] - 2) * a['per_session'] + a['trainees'] + 5:,} here) from every mark of the year,"
            f" loading each enrolment with its trainee, session and training as ORM rows, and draw a table of as many"
            f" rows ({funders['bytes'] / 1024 / 1024:.1f} MB of HTML); the time grows with the enrolments, the"
            " statements do not. A year's figures are an export an organization asks for once per funder's"
            " campaign; narrowing by funder or period divides it.",
        ]
    )


if __name__ == "__main__":
    main(__doc__, run, section, trainees=60, slots=40, sessions=500, per_session=12, runs=15)
