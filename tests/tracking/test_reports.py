"""The organization's report (rates by week, month, training, facilitator and funder, counts, the sessions
behind, each figure a link), the funders' completion figures (CPF rate rounded down, band, reason, force
majeure, the 3-working-day deadlines), their spreadsheets, and bad filters answered plainly."""

from __future__ import annotations

import io
import re
from datetime import date

from sqlalchemy import select

from tests.tracking.conftest import tracked

# Monday 2 and Tuesday 3 March 2026; Monday 6 April 2026 (Easter Monday, a public holiday) for the deadlines.
MARCH = [date(2026, 3, 2), date(2026, 3, 3)]


def world(app, admin_client):
    from tenants import find_tenant

    client = admin_client()
    with app.app_context():
        acme = find_tenant(slug="acme")
    first = tracked(
        app,
        acme,
        days=MARCH,
        people=["Alice", "Bruno"],
        facilitator_email="fred@acme.fr",
        title="Excel",
        marks={
            ("Alice", 0): ("present", 180, 0, 0),
            ("Alice", 1): ("present", 180, 0, 0),
            ("Alice", 2): ("present", 180, 0, 0),
            ("Alice", 3): ("present", 179, 1, 0),
            ("Bruno", 0): ("present", 180, 0, 0),
            ("Bruno", 1): ("excused", 0, 0, 0),
        },
    )
    second = tracked(
        app,
        acme,
        days=[date(2026, 4, 1)],
        people=["Carla"],
        facilitator_email="olga@acme.fr",
        title="Word",
        marks={("Carla", 0): ("present", 60, 120, 0)},
    )
    return client, acme, first, second


def test_the_report_breaks_attendance_down_and_links_each_figure(app, admin_client):
    client, acme, first, second = world(app, admin_client)
    page = client.get("/acme/reports?start=2026-03-01&end=2026-04-30").get_data(as_text=True)
    # Excel: Alice 719 + Bruno 180 of 1440 minutes (62 %); Word: Carla 60 of 360 (16 %); in all 959 / 1800.
    assert "data-total-rate>53%<" in page
    assert "data-sessions-count>2<" in page and "data-trainees-count>3<" in page
    assert "data-signatures-count>6<" in page
    months = re.search(r'data-breakdown="months">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r"<td>(\d+%)</td>", months) == ["62%", "16%"]
    trainings = re.search(r'data-breakdown="trainings">(.*?)</table>', page, re.S).group(1)
    assert f"training={first.training_id}" in trainings and "62%" in trainings
    assert 'role="img"' in page and "<title" in page  # each chart an SVG with its title, its table below
    # A figure opens the records behind it: narrowed to the training, only its session is listed.
    narrowed = client.get(f"/acme/reports?start=2026-03-01&end=2026-04-30&training={first.training_id}")
    listing = re.search(r"data-sessions>(.*?)</table>", narrowed.get_data(as_text=True), re.S).group(1)
    assert f"/acme/sessions/{first.session_id}/attendance" in listing
    assert f"/acme/sessions/{second.session_id}/attendance" not in listing
    # By facilitator, by funder.
    from blueprints.accounts.models import User
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(acme, app):
        olga = db.session.scalars(select(User.id).where(User.email == "olga@acme.fr")).one()
    mine = client.get(f"/acme/reports?start=2026-03-01&end=2026-04-30&facilitator={olga}").get_data(
        as_text=True
    )
    assert "data-total-rate>16%<" in mine
    assert "funder=cpf" in page

    sheet = client.get("/acme/reports/attendance.xlsx?start=2026-03-01&end=2026-04-30")
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[-1] == ("Total", None, None, 1800, 959, 53)


def test_a_period_with_nothing_and_bad_filters_answer_plainly(app, admin_client):
    client, *_ = world(app, admin_client)
    empty = client.get("/acme/reports?start=2020-01-01&end=2020-02-01")
    assert empty.status_code == 200 and "No half-day in this period" in empty.get_data(as_text=True)
    bad = client.get("/acme/reports?start=yesterday&end=2026-04-30&funder=bank&training=x").get_data(
        as_text=True
    )
    assert "A date was not understood" in bad and "Unknown funder" in bad
    swapped = client.get("/acme/reports?start=2026-04-30&end=2026-03-01").get_data(as_text=True)
    assert "the dates were swapped" in swapped and "data-total-rate>53%<" in swapped
    for path in (
        "/acme/reports/funders?start=2020-01-01&end=2020-02-01",
        "/acme/reports/anomalies?start=2020-01-01&end=2020-01-02",
    ):
        assert client.get(path).status_code == 200
    assert client.get("/acme/reports/funders.csv?start=2020-01-01&end=2020-02-01").status_code == 200


def test_the_funders_figures_follow_cpf_rules(app, admin_client):
    from blueprints.tracking.models import Justification
    from tenants import tenant_scope
    from tenants.db import db

    client, acme, first, second = world(app, admin_client)
    with tenant_scope(acme, app):
        db.session.add(
            Justification(
                slot_id=first.slot_ids[1],
                participant_id=first.people["Bruno"],
                reason="force_majeure",
                text="Flood",
                status="accepted",
            )
        )
        db.session.commit()
    csv = (
        client.get("/acme/reports/funders.csv?start=2026-03-01&end=2026-04-30").get_data().decode("utf-8-sig")
    )
    lines = {line.split(";")[2]: line.split(";") for line in csv.strip().split("\r\n")[1:]}
    alice, bruno, carla = lines["Alice Doe"], lines["Bruno Doe"], lines["Carla Doe"]
    # Alice: 719 of 720 minutes, 99.86 %: declared 99, never 100; full price; the hours not done.
    assert alice[:2] == ["cpf", "CPF-Alice"] and alice[6:9] == ["12.0", "11.98", "99"]
    assert alice[9] == "trainee's absences" and alice[11] == "0.02" and alice[12] == "full price"
    # Bruno: 180 of 720 = 25 %, a force majeure absence: pro rata.
    assert bruno[8] == "25" and bruno[10] == "yes" and bruno[12] == "pro rata of the hours done"
    # Carla: 60 of the 360 minutes planned (two half-days): 16 %, a quarter of the price.
    assert carla[8] == "16" and carla[12] == "25 % of the price"
    # Entry within 3 working days of the start (Mon 2 March → Thu 5 March); for 1 April, Thu 2, Fri 3, then
    # Monday 6 April is Easter Monday: Tuesday 7.
    assert alice[13:15] == ["2026-03-05", "2026-03-06"]
    assert carla[13:15] == ["2026-04-07", "2026-04-07"]
    page = client.get("/acme/reports/funders?start=2026-03-01&end=2026-04-30&funder=cpf").get_data(
        as_text=True
    )
    assert page.count("data-enrollment=") == 3 and "data-completion>99%<" in page
