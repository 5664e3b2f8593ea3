"""The staff directory on PostgreSQL, run by hand: ``.venv/bin/python bench/directory.py``.

``GET /staff/organizations`` as a signed-in platform admin sends it, through the whole app (test client: routing,
the staff login check, the search, the page's template), over ``--tenants`` organizations: the first page, a
name search, an address search, an admin's email (the hashed index), a state filter and a page far down the list.
Each case is timed ``--repeat`` times after a warm-up; the target is a 95th percentile under 300 ms.

The directory reads platform tables only (tenants, billing profiles, the email index, the statistics table), so
the organizations are platform rows inserted in bulk, with their figures and a billing profile for one in three
and two admin emails each: no tenant schema is opened by the page, and none is built here. The same cases on
``--baseline`` organizations, in the same run, show how the time grows with the directory.

It works in a database of its own, ``emarge_bench_directory_<pid>``, created and dropped here, and writes its
figures in the "## Staff directory" section of docs/performance.md (``--no-docs`` to leave the file alone).
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import time

from common import load, machine, main, scratch, sqlalchemy_url

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TARGET_MS = 300
STREETS = (
    "rue de la Paix",
    "avenue Jean Jaurès",
    "boulevard Voltaire",
    "place Bellecour",
    "quai des Chartrons",
)
CITIES = ("Paris", "Lyon", "Bordeaux", "Lille", "Nantes", "Toulouse", "Rennes")


def populate(first: int, last: int) -> None:
    """Organizations ``first``..``last``-1: tenant rows in every state, figures, billing profiles, admin emails."""
    from sqlalchemy import insert, select

    from blueprints.accounts.email_index import email_hash
    from tenants.db import db, utcnow
    from tenants.models import AccountEmail, BillingProfile, Tenant, TenantStats

    now = utcnow()
    rows = []
    for n in range(first, last):
        row = {
            "slug": f"org{n:05d}",
            "schema": f"tenant_org{n:05d}",
            "name": f"Organisme {CITIES[n % len(CITIES)]} {n:05d}",
            "status": "suspended" if n % 97 == 0 else "active",
            "created_at": now - datetime.timedelta(days=n % 900),
            "confirmed_at": None if n % 13 == 0 else now - datetime.timedelta(days=n % 900),
            "end_of_service_at": now - datetime.timedelta(days=3) if n % 89 == 0 else None,
            "deletion_requested_at": now if n % 211 == 0 else None,
        }
        rows.append(row)
    with db.engine.begin() as connection:
        for start in range(0, len(rows), 1000):
            connection.execute(insert(Tenant.__table__), rows[start : start + 1000])
        ids = dict(
            connection.execute(
                select(Tenant.slug, Tenant.id).where(Tenant.slug.in_([r["slug"] for r in rows]))
            ).all()
        )
        stats, billing, emails = [], [], []
        for n in range(first, last):
            tenant_id = ids[f"org{n:05d}"]
            stats.append(
                {
                    "tenant_id": tenant_id,
                    "users": 3 + n % 40,
                    "participants": 20 + n % 900,
                    "sessions": n % 300,
                    "signatures_this_month": n % 2500,
                    "documents": n % 700,
                    "support_access": ("on-request", "always", "off")[n % 3],
                    "refreshed_at": now,
                }
            )
            if n % 3 == 0:
                billing.append(
                    {
                        "tenant_id": tenant_id,
                        "billing_name": f"SAS Formation {n:05d}",
                        "billing_address": f"{n % 200 + 1} {STREETS[n % len(STREETS)]}, {CITIES[n % len(CITIES)]}",
                    }
                )
            for k in range(2):
                emails.append(
                    {
                        "email_hash": email_hash(f"admin{k}@org{n:05d}.fr"),
                        "tenant_id": tenant_id,
                        "is_admin": True,
                    }
                )
        for table, values in (
            (TenantStats.__table__, stats),
            (BillingProfile.__table__, billing),
            (AccountEmail.__table__, emails),
        ):
            for start in range(0, len(values), 1000):
                connection.execute(insert(table), values[start : start + 1000])
        connection.exec_driver_sql("ANALYZE")


def staff_client(app):
    """A test client signed in as a platform admin, through the app's own staff login record."""
    import pyotp

    from blueprints.accounts.logins import open_staff_login
    from blueprints.staff.models import Staff
    from blueprints.staff.totp import encrypt_secret
    from tenants.db import db

    with app.app_context():
        staff = db.session.query(Staff).filter_by(email="bench@emarge.fr").one_or_none()
        if staff is None:
            staff = Staff(
                email="bench@emarge.fr",
                name="Bench Admin",
                password_hash="x",
                totp_secret=encrypt_secret(pyotp.random_base32()),
                role="platform-admin",
            )
            db.session.add(staff)
            db.session.commit()
        opened = open_staff_login(staff.id, {"ip": "127.0.0.1", "user_agent": "bench"})
        db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with client.session_transaction() as session:
        session["staff_login"] = f"{opened.login_id}:{opened.key}"
    return client


def cases(count: int) -> list[tuple[str, str]]:
    far = max(1, count // 50 - 1)
    return [
        ("First page", "/staff/organizations"),
        ("Name search (`Lyon`)", "/staff/organizations?q=Lyon"),
        ("Address search (`voltaire`)", "/staff/organizations?q=voltaire"),
        ("Admin email (hashed index)", f"/staff/organizations?q=admin1@org{count // 2:05d}.fr"),
        ("State filter (unverified)", "/staff/organizations?state=unverified"),
        (f"Page {far} of the whole list", f"/staff/organizations?page={far}"),
    ]


def measure(client, count: int, repeat: int) -> list[dict]:
    results = []
    for label, url in cases(count):
        for _ in range(3):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url)
            timings.append(1000 * (time.perf_counter() - started))
            assert response.status_code == 200, (url, response.status_code)
        assert b"Organisme" in response.data or b"org0" in response.data, url
        results.append(
            {
                "label": label,
                "url": url,
                "median": statistics.median(timings),
                "p95": statistics.quantiles(timings, n=20)[-1],
                "max": max(timings),
            }
        )
        print(f"{count:>5} organizations, {label}: p95 {results[-1]['p95']:.1f} ms", flush=True)
    return results


def run(args) -> dict:
    from app import create_app
    from tenants.db import db
    from tenants.migrate import build_platform

    with scratch(f"emarge_bench_directory_{os.getpid()}") as (url, instance):
        app = create_app(
            {
                "SKIP_ENV": True,
                "INSTANCE_PATH": instance,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url),
                "REDIS_URL": None,
            }
        )
        results: dict = {"tenants": args.tenants, "baseline": args.baseline, "repeat": args.repeat}
        with app.app_context():
            with db.engine.begin() as connection:
                build_platform(connection)
            results["machine"] = {**machine(), "load_start": load()}
            populate(0, args.baseline)
        results["small"] = measure(staff_client(app), args.baseline, args.repeat)
        with app.app_context():
            started = time.perf_counter()
            populate(args.baseline, args.tenants)
            results["populate_s"] = time.perf_counter() - started
        results["large"] = measure(staff_client(app), args.tenants, args.repeat)
        with app.app_context():
            db.engine.dispose()
        results["machine"]["load_end"] = load()
        return results


def section(results: dict) -> str:
    m = results["machine"]
    worst = max(r["p95"] for r in results["large"])
    lines = [
        "## Staff directory",
        "",
        f"Measured by `bench/directory.py` on {datetime.date.today().isoformat()}, PostgreSQL {m['postgresql']}, on",
        f"{m['cpus']} CPU ({m['cpu']}), {m['ram']} RAM, Python {m['python']}. Load average (1, 5, 15 min)",
        f"at the start {m['load_start']}, at the end {m['load_end']}.",
        "",
        "`GET /staff/organizations` through the whole app as a signed-in platform admin (Flask test client:",
        "routing, the staff login record, the search, the template), each case "
        f"{results['repeat']} times after 3 warm-ups.",
        "",
        f"| Case | {results['baseline']} organizations: median / p95 | "
        f"{results['tenants']} organizations: median / p95 (max) | Target p95 |",
        "|---|---|---|---|",
    ]
    for small, large in zip(results["small"], results["large"], strict=True):
        verdict = "within target" if large["p95"] < TARGET_MS else "MISSED"
        lines.append(
            f"| {large['label']} | {small['median']:.1f} / {small['p95']:.1f} ms | "
            f"{large['median']:.1f} / {large['p95']:.1f} ms ({large['max']:.1f} ms) | "
            f"< {TARGET_MS} ms: {verdict} |"
        )
    lines += [
        "",
        f"Worst 95th percentile at {results['tenants']} organizations: {worst:.1f} ms. The page reads platform "
        "tables only: the tenants, their billing profiles, the hashed email index and the statistics table an "
        "hourly job fills in each tenant, so no tenant schema is opened. A name or address search is a `LIKE` on "
        f"{results['tenants']} rows, a count and one page of 50 joined to its figures; an email is one lookup in "
        "the hashed index. The organizations are platform rows inserted in bulk "
        f"({results['populate_s']:.1f} s), in every state, a billing profile for one in three.",
        "Run it again with `.venv/bin/python bench/directory.py` (`--help` for the sizes).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main(__doc__, run, section, tenants=5000, baseline=100, repeat=60)
