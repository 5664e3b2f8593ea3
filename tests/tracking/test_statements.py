"""The statement count of each report does not grow with its size: the session grid with 3 then 12 trainees and
4 then 12 half-days, the trainee's page with 1 then 4 sessions, the organization's reports with 2 then 6
sessions. (The walk of tests/architecture/test_queries.py counts every page too, at two sizes of everything.)"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import event

from tests.tracking.conftest import tracked


def _count(app, client, path: str) -> int:
    from tenants.db import db

    client.get(path)  # warm the per-process copies (organization, policies)
    seen = []
    with app.app_context():
        engine = db.engine

    def counter(connection, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200, (path, response.status_code)
    return len(seen)


def _world(app, acme, *, trainees: int, days: int, start: date, title: str, reuse=None):
    names = [*(reuse or {})] + [f"{title.replace(' ', '')}{n}" for n in range(trainees - len(reuse or {}))]
    marks = {}
    for n, name in enumerate(names):
        for index in range(days * 2):
            status = ("present", "late", "absent", "excused")[(n + index) % 4]
            marks[(name, index)] = (
                status,
                180 if status == "present" else 150 if status == "late" else 0,
                30 if status == "late" else 0,
                0,
            )
    return tracked(
        app,
        acme,
        days=[start + timedelta(days=d) for d in range(days)],
        people=names,
        marks=marks,
        facilitator_email="fred@acme.fr",
        title=title,
        reuse=reuse,
    )


def test_no_report_sends_more_statements_for_more_rows(app, admin_client):
    from tenants import find_tenant

    client = admin_client()
    with app.app_context():
        acme = find_tenant(slug="acme")
    start = date.today() - timedelta(days=60)
    small = _world(app, acme, trainees=3, days=2, start=start, title="Small")
    big = _world(app, acme, trainees=12, days=6, start=start, title="Big")
    period = f"start={(start - timedelta(days=1)).isoformat()}&end={date.today().isoformat()}"
    grid = [_count(app, client, f"/acme/sessions/{w.session_id}/attendance") for w in (small, big)]
    assert grid[0] == grid[1], grid
    person = {"Small0": small.people["Small0"]}
    before = [
        _count(app, client, f"/acme/participants/{small.people['Small0']}/attendance"),
        _count(app, client, f"/acme/reports?{period}"),
        _count(app, client, f"/acme/reports/funders?{period}"),
        _count(app, client, f"/acme/reports/anomalies?{period}"),
    ]
    for k in range(4):
        _world(
            app,
            acme,
            trainees=2,
            days=2,
            start=start + timedelta(days=10 + 3 * k),
            title=f"More {k}",
            reuse=person,
        )
    after = [
        _count(app, client, f"/acme/participants/{small.people['Small0']}/attendance"),
        _count(app, client, f"/acme/reports?{period}"),
        _count(app, client, f"/acme/reports/funders?{period}"),
        _count(app, client, f"/acme/reports/anomalies?{period}"),
    ]
    assert before == after, (before, after)
