"""Audience measurement: what an event becomes, the figures, the jobs that aggregate and purge, the dashboard."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.privacy.conftest import text, view_event


def test_referrers_are_classified_by_domain_only():
    from blueprints.privacy.measurement import classify_referrer, device_class, language_of

    host = "app.emarge.fr"
    assert classify_referrer("", host) == ("direct", None)
    assert classify_referrer("https://app.emarge.fr/signup", host) == ("internal", None)
    assert classify_referrer("https://www.google.fr/search?q=emarge", host) == ("search", "google.fr")
    assert classify_referrer("https://duckduckgo.com/?q=x", host) == ("search", "duckduckgo.com")
    assert classify_referrer("https://www.linkedin.com/feed/", host) == ("social", "linkedin.com")
    assert classify_referrer("https://t.co/abc", host) == ("social", "t.co")
    assert classify_referrer("https://blog.example.org/post?id=4", host) == ("site", "blog.example.org")
    assert classify_referrer("not a url", host) == ("direct", None)
    assert (device_class(390), device_class(820), device_class(1440), device_class(None)) == (
        "mobile",
        "tablet",
        "desktop",
        None,
    )
    assert (language_of("fr-FR"), language_of("en"), language_of("<x>")) == ("fr", "en", None)


def measured_client(app):
    c = app.test_client()
    c.post("/privacy/consent", data={"choice": "accept"})
    return c


def test_figures_from_a_few_visits(app):
    from blueprints.privacy import measurement
    from tenants.db import db, utcnow

    a, b = measured_client(app), measured_client(app)
    first = view_event("/", referrer="https://www.google.fr/search", language="fr-FR", width=1400)
    assert a.post("/privacy/collect", json=first).status_code == 204
    a.post("/privacy/collect", json={"type": "time", "view": first["view"], "seconds": 30})
    a.post("/privacy/collect", json={"type": "time", "view": first["view"], "seconds": 12})  # never shrinks
    a.post(
        "/privacy/collect", json={"type": "click", "view": first["view"], "path": "/", "target": "signup-cta"}
    )
    second = view_event("/signup", referrer="http://localhost/", language="fr-FR", width=1400)
    a.post("/privacy/collect", json=second)
    a.post("/privacy/collect", json={"type": "time", "view": second["view"], "seconds": 90})
    a.post("/privacy/collect", json=second)  # sent twice, counted once
    b.post(
        "/privacy/collect",
        json=view_event("/privacy", referrer="https://www.linkedin.com/x", language="en-GB", width=390),
    )
    with app.app_context():
        today = measurement.local_day(utcnow())
        f = measurement.figures(today - timedelta(days=6), today)
    assert (f.visits, f.views) == (2, 3)
    assert f.average_seconds == 60  # 120 visible seconds over 2 visits
    assert dict(f.pages) == {"/": 1, "/signup": 1, "/privacy": 1}
    assert f.clicks == [("signup-cta", 1)]
    assert dict(f.arrivals) == {"direct": 0, "search": 1, "social": 1, "site": 0}
    assert dict(f.referrers) == {"google.fr": 1, "linkedin.com": 1}
    assert dict(f.languages) == {"fr": 1, "en": 1}
    assert dict(f.devices) == {"desktop": 1, "mobile": 1}
    assert len(f.by_day) == 7 and f.by_day[-1][1:] == (2, 3)
    # Nothing that identifies a person is stored: no IP, no browser string, no query string.
    from blueprints.privacy.models import AudienceEvent

    columns = set(AudienceEvent.__table__.columns.keys())
    assert not columns & {"ip", "user_agent", "url", "referrer"}
    with app.app_context():
        stored = " ".join(
            str(v)
            for row in db.session.execute(select(AudienceEvent)).scalars()
            for v in row.__dict__.values()
        )
    assert "search?" not in stored and "127.0.0.1" not in stored


def _event(app, days_ago: int, page: str = "/"):
    from blueprints.privacy.measurement import local_day
    from blueprints.privacy.models import AudienceEvent
    from tenants.db import db, utcnow

    with app.app_context():
        when = utcnow() - timedelta(days=days_ago)
        db.session.add(
            AudienceEvent(
                created_at=when,
                day=local_day(when),
                visitor_id="a" * 32,
                kind="view",
                view_id=None,
                page=page,
                visit_start=True,
                arrival="direct",
                seconds=10,
            )
        )
        db.session.commit()


def test_jobs_aggregate_days_and_purge_raw_events_after_13_months(app, jobs):
    from blueprints.privacy import measurement
    from blueprints.privacy.models import AudienceDaily
    from jobs import enqueue
    from tenants.db import db, utcnow

    for days_ago in (1, 1, 3, 0):
        _event(app, days_ago)
    with app.app_context():
        today = measurement.local_day(utcnow())
        before = measurement.figures(today - timedelta(days=5), today)
        db.session.rollback()  # jobs enqueued inside a transaction wait for its commit
        enqueue("jobs.audience.aggregate_audience")
        enqueue("jobs.audience.aggregate_audience")
    jobs()
    with app.app_context():
        after = measurement.figures(today - timedelta(days=5), today)
        assert (after.visits, after.views, after.by_day) == (before.visits, before.views, before.by_day)
        assert after.visits == 4
        stored_days = db.session.scalar(
            select(func.count(AudienceDaily.id)).where(AudienceDaily.dimension == "day")
        )
        assert stored_days == 2  # the finished days with events; today stays live

    from blueprints.privacy import measurement
    from blueprints.privacy.models import AudienceDaily, AudienceEvent
    from jobs import enqueue
    from tenants.db import db, utcnow

    _event(app, 400, "/old")  # more than 13 months ago
    _event(app, 380, "/kept")  # less than 13 months ago
    _event(app, 0)
    with app.app_context():
        enqueue("jobs.audience.purge_audience_events")
    jobs()
    with app.app_context():
        pages = db.session.scalars(select(AudienceEvent.page).order_by(AudienceEvent.page)).all()
        assert set(pages) == {"/", "/kept"}
        old_day = measurement.local_day(utcnow() - timedelta(days=400))
        assert (
            db.session.scalar(
                select(AudienceDaily.count).where(
                    AudienceDaily.day == old_day,
                    AudienceDaily.dimension == "page",
                    AudienceDaily.key == "/old",
                )
            )
            == 1
        )
        f = measurement.figures(old_day, old_day)
        assert (f.visits, f.views, f.pages) == (1, 1, [("/old", 1)])


def test_periodic_jobs_are_scheduled():
    from jobs import SCHEDULE

    funcs = {p.func for p in SCHEDULE}
    assert {"jobs.audience.aggregate_audience", "jobs.audience.purge_audience_events"} <= funcs


def test_dashboard_shows_the_period(app, staff_client):
    c = measured_client(app)
    view = view_event("/signup", referrer="https://www.qwant.com/?q=x")
    c.post("/privacy/collect", json=view)
    c.post(
        "/privacy/collect",
        json={"type": "click", "view": view["view"], "path": "/signup", "target": "signup-submit"},
    )
    page = staff_client.get("/staff/audience")
    assert page.status_code == 200
    body = text(page)
    assert re.search(r'data-figure="visits">1<', body) and re.search(r'data-figure="views">1<', body)
    assert "signup-submit" in body and "qwant.com" in body and "<svg" in body
    empty = text(staff_client.get("/staff/audience?start=2020-01-01&end=2020-01-31"))
    assert re.search(r'data-figure="visits">0<', empty)
