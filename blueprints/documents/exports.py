"""Attendance exports: one row per participant and half-day, as CSV or XLSX, for funders' platforms and
spreadsheets (cells made safe by the caller's ``safe_cell``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.documents.paper_sheets import paper_slot_ids
from blueprints.participants.models import Enrollment
from blueprints.participants.services import funder_labels
from blueprints.shared.filenames import file_name
from blueprints.trainings.models import TrainingSession
from tenants.db import db

# --- exports -------------------------------------------------------------------------------------------------


def export_headers() -> list[str]:
    return [
        _("Training"),
        _("Session start"),
        _("Session end"),
        _("Date"),
        _("Start"),
        _("End"),
        _("Last name"),
        _("First name"),
        _("Email"),
        _("Company"),
        _("Funder"),
        _("Funder reference"),
        _("Status"),
        _("Late (minutes)"),
        _("Early departure (minutes)"),
        _("Attended hours"),
        _("Signed at"),
        _("Method"),
    ]


def _status_label(status: str | None) -> str:
    labels = {
        "present": pgettext("attendance status", "present"),
        "late": pgettext("attendance status", "late"),
        "absent": pgettext("attendance status", "absent"),
        "excused": pgettext("attendance status", "excused"),
    }
    return labels.get(status, status) if status else _("not recorded")


def _method_label(method: str | None) -> str:
    labels = {
        "own_link": _("own link"),
        "room_code": _("in-room code"),
        "facilitator_device": _("facilitator's device"),
        "paper": _("paper"),
    }
    return labels.get(method, method or "")


def attendance_rows(session: TrainingSession) -> Iterator[list]:
    """One row per enrolled participant × slot, in slot then name order; values typed for a spreadsheet."""
    from blueprints.signing.models import Attendance
    from blueprints.trainings.planning import local

    enrollments = list(
        db.session.scalars(
            select(Enrollment)
            .where(Enrollment.session_id == session.id)
            .options(selectinload(Enrollment.participant))
        )
    )
    enrollments.sort(key=lambda e: (e.participant.last_name.lower(), e.participant.first_name.lower(), e.id))
    slots = list(session.slots)
    marks = {
        (a.slot_id, a.participant_id): a
        for a in db.session.scalars(
            select(Attendance).where(Attendance.slot_id.in_([s.id for s in slots] or [0]))
        )
    }
    paper = paper_slot_ids([s.id for s in slots])
    funders = {code: str(label) for code, label in funder_labels().items()}  # in the reader's language
    tz = session.timezone
    for slot in slots:
        start, end = local(slot.starts_at, tz), local(slot.ends_at, tz)
        for enrollment in enrollments:
            person = enrollment.participant
            mark = marks.get((slot.id, person.id))
            method = mark.method if mark is not None else ("paper" if slot.id in paper else None)
            yield [
                session.training.title,
                session.start_date,
                session.end_date,
                slot.day,
                start.strftime("%H:%M"),
                end.strftime("%H:%M"),
                person.last_name,
                person.first_name,
                person.email or "",
                person.company or "",
                funders.get(enrollment.funder, enrollment.funder),
                enrollment.funder_reference or "",
                _status_label(mark.status if mark is not None else None),
                mark.late_minutes if mark is not None else 0,
                mark.early_minutes if mark is not None else 0,
                Decimal(mark.attended_minutes if mark is not None else 0) / 60,
                local(mark.signed_at, tz).replace(tzinfo=None)
                if mark is not None and mark.signed_at
                else None,
                _method_label(method),
            ]


def export_filename(session: TrainingSession, extension: str, language: str) -> str:
    return file_name(
        "attendance_export",
        session.training.title or "session",
        session.start_date.isoformat(),
        extension=extension,
        language=language,
    )


def attendance_csv(rows, safe_cell) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(export_headers())
    for row in rows:
        writer.writerow([safe_cell(_csv_value(v)) for v in row])
    # A BOM, so that a spreadsheet opened by double-click reads the accents right.
    return out.getvalue().encode("utf-8-sig")


def _csv_value(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


def attendance_xlsx(rows, safe_cell) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Attendance"))
    sheet.append(export_headers())
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str):
                cells.append(safe_cell(value))
            elif isinstance(value, Decimal):
                cells.append(float(round(value, 2)))
            else:
                cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
