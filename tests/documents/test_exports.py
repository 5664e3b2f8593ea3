"""Attendance exports for funders: CSV and XLSX, one row per participant × slot, formulas neutralised."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import update

from tests.documents.plumbing import SLUG, english_world, signed_in, task_id_of, text

HEADER = [
    "Training",
    "Session start",
    "Session end",
    "Date",
    "Start",
    "End",
    "Last name",
    "First name",
    "Email",
    "Company",
    "Funder",
    "Funder reference",
    "Status",
    "Late (minutes)",
    "Early departure (minutes)",
    "Attended hours",
    "Signed at",
    "Method",
]


@pytest.fixture
def world(app, make_tenant):
    from blueprints.participants.models import Enrollment, Participant
    from tenants import tenant_scope
    from tenants.db import db

    world = english_world(app, make_tenant, participants=3, slots=4)
    with tenant_scope(SLUG, app):
        first, second, third = world.participant_ids
        # A name that a spreadsheet would run as a formula, an employer-paid trainee without company or reference.
        db.session.execute(
            update(Participant).where(Participant.id == first).values(last_name='=HYPERLINK("http://x")')
        )
        db.session.execute(update(Participant).where(Participant.id == third).values(company=None))
        db.session.execute(
            update(Enrollment)
            .where(Enrollment.participant_id == second)
            .values(funder="cpf", funder_reference="CPF-2026-0042")
        )
        db.session.execute(
            update(Enrollment)
            .where(Enrollment.participant_id == third)
            .values(funder="employer", funder_reference=None)
        )
        db.session.commit()
    return world


def export(app, world, jobs, fmt: str) -> bytes:
    admin = signed_in(app)
    response = admin.post(f"/{SLUG}/sessions/{world.session_id}/documents/export", data={"format": fmt})
    task_id = task_id_of(response)
    jobs()
    fragment = text(admin.get(f"/{SLUG}/tasks/{task_id}", headers={"HX-Request": "true"}))
    assert "Done." in fragment
    download = admin.get(f"/{SLUG}/tasks/{task_id}/download")
    assert download.status_code == 200
    return download


def expected_cells(app) -> dict:
    """(last name, day, start) → (status, late minutes, attended hours) as recorded."""
    from zoneinfo import ZoneInfo

    from blueprints.participants.models import Participant
    from blueprints.signing.models import Attendance
    from blueprints.trainings.models import Slot
    from tenants import tenant_scope
    from tenants.db import db

    paris = ZoneInfo("Europe/Paris")
    with tenant_scope(SLUG, app):
        people = {p.id: p.last_name for p in db.session.scalars(db.select(Participant))}
        slots = {s.id: s for s in db.session.scalars(db.select(Slot))}
        return {
            (
                people[a.participant_id],
                slots[a.slot_id].day.isoformat(),
                slots[a.slot_id].starts_at.astimezone(paris).strftime("%H:%M"),
            ): (a.status, a.late_minutes, round(a.attended_minutes / 60, 2))
            for a in db.session.scalars(db.select(Attendance))
        }


def test_csv_has_a_row_per_participant_and_slot(app, world, jobs):
    download = export(app, world, jobs, "csv")
    assert download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"].endswith(".csv")
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == HEADER
    body = rows[1:]
    assert len(body) == 3 * 4
    by_name = {}
    for row in body:
        assert row[0] == "Sécurité au travail"
        assert row[1] == "2026-11-02" and row[2] == "2026-11-03"
        by_name.setdefault(row[6], []).append(row)
    assert set(by_name) == {'\'=HYPERLINK("http://x")', "Nom01", "Nom02"}
    # The funder in words, in the reader's language, never its internal code.
    assert all(
        r[10] == "CPF (personal training account)" and r[11] == "CPF-2026-0042" for r in by_name["Nom01"]
    )
    assert all(r[10] == "Employer" and r[11] == "" and r[9] == "" for r in by_name["Nom02"])
    # Statuses, minutes and hours as recorded, cell by cell.
    recorded = expected_cells(app)
    assert len(recorded) == len(body)
    seen = set()
    for row in body:
        status, late, hours = recorded[(row[6].removeprefix("'"), row[3], row[4])]
        assert (row[12], int(row[13]), float(row[15])) == (status, late, hours)
        seen.add(status)
    assert {"present", "late", "excused"} <= seen
    assert [r[3] for r in body] == sorted(r[3] for r in body)  # slot by slot


def test_xlsx_reads_back_with_funders_and_neutralised_formulas(app, world, jobs):
    from openpyxl import load_workbook

    download = export(app, world, jobs, "xlsx")
    assert download.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(download.data))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert len(rows) == 1 + 3 * 4
    names = {r[6] for r in rows[1:]}
    assert names == {'\'=HYPERLINK("http://x")', "Nom01", "Nom02"}
    # No cell is a formula: the name is text, prefixed.
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.value
    cpf = [r for r in rows[1:] if r[6] == "Nom01"]
    assert len(cpf) == 4 and all(
        r[10] == "CPF (personal training account)" and r[11] == "CPF-2026-0042" for r in cpf
    )
    # Hours are numbers a funder can add up; dates are dates.
    assert all(isinstance(r[15], (int, float)) for r in rows[1:])
    assert {r[3].date().isoformat() if hasattr(r[3], "date") else str(r[3]) for r in rows[1:]} == {
        "2026-11-02",
        "2026-11-03",
    }


def test_export_needs_a_known_format_and_access(app, world):
    admin = signed_in(app)
    url = f"/{SLUG}/sessions/{world.session_id}/documents/export"
    assert admin.post(url, data={"format": "pdf"}).status_code == 400
    assert admin.post(f"/{SLUG}/sessions/999/documents/export", data={"format": "csv"}).status_code == 404


def test_the_funder_column_is_in_the_readers_language(app, world):
    from flask_babel import force_locale

    from blueprints.documents.exports import attendance_rows
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(SLUG, app), force_locale("fr"):
        session = db.session.get(TrainingSession, world.session_id)
        funders = {row[6].removeprefix("'"): row[10] for row in attendance_rows(session)}
    assert funders["Nom01"] == "CPF (compte personnel de formation)"
    assert funders["Nom02"] == "Employeur"
