"""The minute's periodic pass with many tenants, few of them busy, on PostgreSQL and Redis, run by hand:
``.venv/bin/python bench/fanout.py`` (``--tenants 5000 --busy 50`` by default).

Every tenant is a real schema at head (built by replaying ``build_tenant``'s DDL, ``bench/common.py``). The busy
ones get, through the app's own session and commit, an organization, a half-day starting in 30 minutes
(reminders due) and a message left pending 5 minutes ago (a repair due): their commits write the platform's
work index as production's do.

Measured in the same run:

(a) the minute's pass as scheduled: ``jobs.fanout.fan_out`` for each kind of minute work, reading the index and
    enqueueing one RQ job per busy tenant and kind (real Redis); the median of ``--repeat`` passes;
(b) the baseline, the shape the pass had before the index: one job entering every tenant's schema to look for
    work (here, computing each kind's due moment, which is what the old loops' queries amounted to); once.

It works in a database of its own (``emarge_bench_<pid>``) and Redis database 9, both emptied afterwards, and
writes the "## Periodic work" section of docs/performance.md (``--no-docs`` to leave the file alone).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from common import ROOT, bulk_create, load, machine, main, scratch, sqlalchemy_url

sys.path.insert(0, ROOT)

REDIS_URL = os.environ.get("EMARGE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")


def _make_busy(app, slugs: list[str]) -> None:
    """Work for each of ``slugs``, made and committed in its scope: the commit notes the index."""
    from sqlalchemy import update

    from blueprints.accounts.models import Organization
    from blueprints.messages.models import PENDING, Message
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    now = utcnow()
    start = (now + timedelta(minutes=30)).replace(second=0, microsecond=0)
    for slug in slugs:
        with tenant_scope(slug, app):
            db.session.add(
                Organization(
                    name=slug, address="1 rue X", postal_code="75001", city="Paris", contact_email="a@b.fr"
                )
            )
            training = Training(title="Safety at work", planned_hours=3)
            session = TrainingSession(training=training, start_date=start.date(), end_date=start.date())
            db.session.add(
                Slot(session=session, day=start.date(), starts_at=start, ends_at=start + timedelta(hours=3))
            )
            message = Message(
                channel="email",
                template="invitation_signin",
                recipient=f"p@{slug}.fr",
                subject="s",
                status=PENDING,
            )
            db.session.add(message)
            db.session.flush()
            db.session.execute(
                update(Message).where(Message.id == message.id).values(created_at=now - timedelta(minutes=5))
            )
            db.session.commit()


def _minute_pass() -> dict[str, int]:
    from jobs import fanout

    return {kind: fanout.fan_out(kind) for kind in fanout.MINUTE_WORK}


def _scan_every_tenant(app) -> int:
    """The baseline: every tenant's schema entered to see whether it has work."""
    from tenants import all_tenants, work
    from tenants.db import utcnow

    busy = 0
    now = utcnow()
    for tenant in all_tenants():
        moments = work.next_due(tenant, work.KINDS, now)
        busy += any(moment is not None and moment <= now for moment in moments.values())
    return busy


def _count_statements(app, func):
    from sqlalchemy import event

    from tenants.db import db

    sent = []

    def count(*args):
        sent.append(1)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = func()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return result, len(sent)


def run(args) -> dict:

    from app import create_app
    from jobs import QUEUES
    from tenants.db import db
    from tenants.migrate import build_platform

    results: dict = {"tenants": args.tenants, "busy": args.busy, "repeat": args.repeat}
    with scratch(f"emarge_bench_{os.getpid()}", REDIS_URL) as (url, instance):
        app = create_app(
            {
                "SKIP_ENV": True,
                "INSTANCE_PATH": instance,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url),
                "REDIS_URL": REDIS_URL,
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": 1,  # nothing listens; no handed job runs here: only the pass is measured
            }
        )
        with app.app_context():
            results["machine"] = {**machine(REDIS_URL), "load_start": load()}
            with db.engine.begin() as c:
                build_platform(c)
            started = time.perf_counter()
            slugs = bulk_create(0, args.tenants, prefix="t")
            results["build_s"] = time.perf_counter() - started
            print(f"{args.tenants} tenants built in {results['build_s']:.0f} s", flush=True)
            step = max(1, args.tenants // args.busy)
            busy = slugs[::step][: args.busy]
            _make_busy(app, busy)
            for name in QUEUES:
                app.extensions["emarge.jobs"].queue(name).empty()

            # (a) the minute's pass, repeated; the queues emptied between two.
            timings, handed, statements = [], {}, 0
            for _ in range(args.repeat):
                started = time.perf_counter()
                handed, statements = _count_statements(app, _minute_pass)
                timings.append(time.perf_counter() - started)
                for name in QUEUES:
                    app.extensions["emarge.jobs"].queue(name).empty()
            results["pass_ms"] = {
                "median": 1000 * statistics.median(timings),
                "min": 1000 * min(timings),
                "max": 1000 * max(timings),
            }
            results["handed"], results["pass_statements"] = handed, statements
            print(f"minute's pass: median {results['pass_ms']['median']:.1f} ms, handed {handed}", flush=True)

            # (b) the baseline: every tenant entered.
            started = time.perf_counter()
            found, scan_statements = _count_statements(app, lambda: _scan_every_tenant(app))
            results["scan_s"] = time.perf_counter() - started
            results["scan_found"], results["scan_statements"] = found, scan_statements
            print(f"scan of every tenant: {results['scan_s']:.1f} s, {found} with work", flush=True)

            results["machine"]["load_end"] = load()
            db.engine.dispose()
    return results


def section(r: dict) -> str:
    m = r["machine"]
    ratio = r["pass_ms"]["median"] / (1000 * r["scan_s"])
    handed = ", ".join(f"{kind}: {n}" for kind, n in r["handed"].items())
    return f"""## Periodic work

Measured by `bench/fanout.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {r["tenants"]} tenants (real schemas at
head), {r["busy"]} of them busy (a half-day starting in 30 minutes and a message left pending, made and committed
through the app, whose commits wrote the work index). PostgreSQL {m["postgresql"]}, Redis {m["redis"]}, {m["cpus"]}
CPU ({m["cpu"]}), {m["ram"]} RAM, Python {m["python"]}; load average {m["load_start"]} at the start,
{m["load_end"]} at the end.

| What | Result |
|---|---|
| The minute's pass (`jobs.fanout.fan_out` for each kind: read the index, enqueue one RQ job per busy tenant and kind), median of {r["repeat"]} | **{r["pass_ms"]["median"]:.1f} ms** (min {r["pass_ms"]["min"]:.1f}, max {r["pass_ms"]["max"]:.1f}); {r["pass_statements"]} SQL statements; jobs handed out: {handed} |
| Baseline in the same run: one job entering every tenant's schema to look for work | {r["scan_s"]:.1f} s; {r["scan_statements"]} SQL statements; {r["scan_found"]} tenants found with work |
| The minute's pass against the baseline | {100 * ratio:.2f} % of its time |

An idle tenant costs the pass nothing: the pass sends {r["pass_statements"]} statements whatever the number of
tenants (one index query per kind), and opens no tenant's schema; its time grows with the busy tenants only (one
enqueue each). The hourly reconcile is the baseline's scan, in chunks of 100 tenants per job. Building the
{r["tenants"]} schemas took {r["build_s"]:.0f} s. Run it again with `.venv/bin/python bench/fanout.py`
(`--help` for the sizes).
"""


if __name__ == "__main__":
    main(__doc__, run, section, tenants=5000, busy=50, repeat=20)
