"""Rates, hours, completion and the CPF band on hand-built cases: late arrivals, early departures, excused
absences, unsigned and not-yet-signed-off slots; then the same through the pages and their spreadsheets."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

from blueprints.signing.models import ABSENT, EXCUSED, LATE, PRESENT
from blueprints.tracking.figures import (
    ABSENCE,
    DROPOUT,
    FULL,
    INTERRUPTION,
    NOT_SIGNED,
    PLANNED,
    PRO_RATA,
    QUARTER,
    Mark,
    SlotFacts,
    completion,
    cpf_band,
    figures,
)
from tests.tracking.conftest import client_of, tracked

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def slots(count: int, *, past: int, signed_off: int) -> list[SlotFacts]:
    """``count`` slots of 3 hours, the first ``past`` over, the first ``signed_off`` signed off."""
    start = NOW - timedelta(days=past)
    return [
        SlotFacts(
            id=n + 1,
            session_id=1,
            day=(start + timedelta(days=n)).date(),
            starts_at=start + timedelta(days=n),
            ends_at=start + timedelta(days=n, hours=3),
            signed_off=n < signed_off,
        )
        for n in range(count)
    ]


def test_rates_hours_lateness_and_reachability_on_a_hand_built_case():
    six = slots(6, past=4, signed_off=3)
    marks = {
        1: Mark(PRESENT, 180, signed=True),
        2: Mark(LATE, 150, late_minutes=30, signed=True),  # 30 minutes late
        3: Mark(ABSENT),  # signed off: an unjustified absence
        # 4: over, not signed off, no mark: "not signed", still open
        # 5: to come
        6: Mark(EXCUSED),  # a justification accepted ahead of the half-day
    }
    f = figures(six, marks, NOW, threshold=80)
    assert f.states == [PRESENT, LATE, ABSENT, NOT_SIGNED, PLANNED, EXCUSED]
    assert (f.planned_minutes, f.past_minutes, f.attended_minutes) == (1080, 720, 330)
    assert f.rate_past == 45  # 330 / 720 = 45.8 %, rounded down
    assert f.rate_planned == 30  # 330 / 1080 = 30.6 %
    assert (f.late_count, f.late_minutes, f.early_count) == (1, 30, 0)
    assert (f.justified, f.unjustified, f.not_signed, f.signed_slots) == (1, 1, 1, 2)
    # Even attending the two open half-days (360 minutes) leaves (330 + 360) / 1080 = 63 % < 80 %.
    assert not f.reachable and "unreachable" in f.at_risk(2)
    assert figures(six, marks, NOW, threshold=60).reachable  # 63 % ≥ 60 %

    # An early departure counts against the hours; an absence not yet signed off is not an absence.
    early = {1: Mark(PRESENT, 135, early_minutes=45, signed=True), 4: Mark(ABSENT)}
    g = figures(six, early, NOW, threshold=80)
    assert (g.early_count, g.early_minutes, g.attended_minutes) == (1, 45, 135)
    assert g.states[3] == NOT_SIGNED and g.unjustified == 2  # slots 2 and 3: signed off without a presence
    assert g.streak == 2 and "streak" in g.at_risk(2)


def test_completion_and_the_cpf_band_round_down_and_never_overstate():
    four = slots(4, past=5, signed_off=4)
    full = figures(four, {n: Mark(PRESENT, 180, signed=True) for n in range(1, 5)}, NOW, 80)
    assert completion(full, force_majeure=False, interrupted=False).rate == 100
    assert completion(full, force_majeure=False, interrupted=False).reason is None
    # 179 + 3 × 180 = 719 of 720 minutes: 99.86 % declared as 99, never rounded up to 100.
    almost = figures(four, {1: Mark(PRESENT, 179), **{n: Mark(PRESENT, 180) for n in (2, 3, 4)}}, NOW, 80)
    c = completion(almost, force_majeure=False, interrupted=False)
    assert (c.rate, c.band, c.minutes_not_done, c.reason) == (99, FULL, 1, ABSENCE)
    # Present twice then gone: a dropout; half the hours, pro rata.
    gone = figures(
        four, {1: Mark(PRESENT, 180), 2: Mark(PRESENT, 180), 3: Mark(ABSENT), 4: Mark(ABSENT)}, NOW, 80
    )
    assert completion(gone, force_majeure=False, interrupted=False).reason == DROPOUT
    assert completion(gone, force_majeure=False, interrupted=True).reason == INTERRUPTION
    assert completion(gone, force_majeure=False, interrupted=False).band == PRO_RATA
    # The bands' edges: under 25 % a quarter of the price (pro rata under force majeure), 80 % and over in full.
    assert [cpf_band(r, False) for r in (0, 24, 25, 79, 80, 100)] == [
        QUARTER,
        QUARTER,
        PRO_RATA,
        PRO_RATA,
        FULL,
        FULL,
    ]
    assert cpf_band(10, True) == PRO_RATA and cpf_band(None, False) is None


def _numbers(page: str, marker: str) -> list[str]:
    return re.findall(rf"{marker}>([^<]*)<", page)


def test_the_session_grid_and_the_trainee_page_show_the_same_figures(app, admin_client):
    from tenants import find_tenant

    client = admin_client()
    with app.app_context():
        acme = find_tenant(slug="acme")
    today = date.today()
    days = [today - timedelta(days=3), today - timedelta(days=2)]
    world = tracked(
        app,
        acme,
        days=days,
        people=["Alice", "Bruno"],
        facilitator_email="fred@acme.fr",
        marks={
            ("Alice", 0): ("present", 180, 0, 0),
            ("Alice", 1): ("late", 150, 30, 0),
            ("Alice", 2): ("present", 135, 0, 45),
            ("Alice", 3): ("excused", 0, 0, 0),
            ("Bruno", 0): ("present", 180, 0, 0),
            ("Bruno", 1): ("absent", 0, 0, 0),
            ("Bruno", 2): ("absent", 0, 0, 0),
        },
    )
    page = client.get(f"/acme/sessions/{world.session_id}/attendance").get_data(as_text=True)
    # Alice: 465 of 720 minutes = 64 %; Bruno: 180 of 720 = 25 %, two unjustified in a row and a third
    # half-day signed off without him.
    assert _numbers(page, "<td data-rate-past") == ["64%", "25%"]
    assert "data-at-risk-count>2<" in page
    assert _numbers(page, "<td data-slot-rate") == ["100%", "41%", "37%", "0%"]  # 330/360, 135/360
    alice = client.get(f"/acme/participants/{world.people['Alice']}/attendance").get_data(as_text=True)
    assert "data-rate-past>64%<" in alice and "data-late>1 (30 minutes)<" in alice
    assert "data-early>1 (45 minutes)<" in alice and "data-absences>1 / 0<" in alice

    sheet = client.get(f"/acme/sessions/{world.session_id}/attendance.xlsx")
    assert sheet.status_code == 200
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[1][0] == "Alice Doe" and rows[1][1:5] == ("Present", "Late", "Present", "Excused")
    assert rows[1][5:] == (64, 64, 465, 720)
    csv = (
        client.get(f"/acme/participants/{world.people['Bruno']}/attendance.csv")
        .get_data()
        .decode("utf-8-sig")
    )
    assert "Safety at work" in csv and ";25;25;180;720;" in csv

    # A facilitator sees the grid of their own sessions only.
    assert (
        client_of(app, "acme", "fred@acme.fr")
        .get(f"/acme/sessions/{world.session_id}/attendance")
        .status_code
        == 200
    )
    assert (
        client_of(app, "acme", "olga@acme.fr")
        .get(f"/acme/sessions/{world.session_id}/attendance")
        .status_code
        == 404
    )


def test_an_empty_session_and_a_session_without_slots_answer_plainly(app, admin_client, make_tenant):
    from blueprints.trainings.models import Training, TrainingSession
    from tenants import find_tenant, tenant_scope
    from tenants.db import db

    client = admin_client()
    with app.app_context():
        acme = find_tenant(slug="acme")
    with tenant_scope(acme, app):
        session = TrainingSession(
            training=Training(title="Empty", planned_hours=7), start_date=date.today(), end_date=date.today()
        )
        db.session.add(session)
        db.session.commit()
        session_id = session.id
    page = client.get(f"/acme/sessions/{session_id}/attendance")
    assert page.status_code == 200 and "has no half-days yet" in page.get_data(as_text=True)
    world = tracked(app, acme, days=[date.today() + timedelta(days=5)], people=[], marks={})
    page = client.get(f"/acme/sessions/{world.session_id}/attendance")
    assert page.status_code == 200 and "Nobody is enrolled" in page.get_data(as_text=True)
    assert client.get(f"/acme/sessions/{world.session_id}/attendance.csv").status_code == 200
