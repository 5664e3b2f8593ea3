"""Fixtures of the documents tests: a past session with signed, late, absent, excused and paper attendances."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.signing.conftest import png

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(ROOT, "artifacts")
PARIS = ZoneInfo("Europe/Paris")
ISSUED_AT = datetime(2026, 11, 26, 9, 40, tzinfo=UTC)


@dataclass
class Cell:
    status: str
    method: str | None
    signed_at: datetime | None  # UTC
    signed: bool


@dataclass
class SheetWorld:
    slug: str
    session_id: int
    slot_ids: list[int]
    participant_ids: list[int]
    names: list[str]
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)


def stamp(code: str = "7KQ2-M9XD", version: int = 1):
    from blueprints.documents.render import Stamp

    return Stamp(
        code=code,
        verify_url=f"http://localhost/verify/{code}",
        version=version,
        issued_at=ISSUED_AT,
        issued_by="Ada Acme",
    )


def default_pattern(i: int, j: int) -> str:
    """Mostly signed; now and then late, absent, excused, on paper, or signed and leaving early."""
    return {3: "late", 5: "absent", 7: "excused", 9: "paper", 11: "early"}.get((i * 7 + j * 3) % 13, "signed")


def build_sheet_world(
    app,
    make_tenant,
    *,
    slug: str = "acme",
    participants: int = 4,
    slots: int = 4,
    names: list[tuple[str, str]] | None = None,
    pattern=default_pattern,
    signed_off: bool = True,
    logo: bool = True,
    representative: bool = True,
    first_day: date = date(2026, 11, 2),
    distinct_signatures: bool = False,
) -> SheetWorld:
    """A session of ``slots`` half-days (09:00–12:30, 13:30–17:00, Paris) with ``participants`` enrolled.

    Every signature is the same drawing unless ``distinct_signatures`` (the benchmark): a PDF embeds an image
    once however often it is drawn, so only distinct ones weigh as real signatures do.
    """
    from blueprints.accounts.models import Organization, User
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.signing.models import (
        ABSENT,
        EXCUSED,
        FACILITATOR_DEVICE,
        LATE,
        OWN_LINK,
        PAPER,
        PRESENT,
        ROOM_CODE,
        Attendance,
        SlotState,
    )
    from blueprints.trainings.models import Slot, Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db
    from tenants.storage import storage

    make_tenant(slug, admin=f"ada@{slug}.fr", facilitators=(f"fred@{slug}.fr",), name="Acme Formation")
    names = names or [(f"Prénom{i:02d}", f"Nom{i:02d}") for i in range(participants)]
    thumb = _thumbnail()
    with tenant_scope(slug, app):
        org = db.session.scalars(db.select(Organization)).one()
        org.siret, org.activity_number = "73282932000074", "11755555575"
        org.representative_name, org.representative_title = "Ada Lovelace", "Directrice"
        if logo:
            org.logo_blob_id = int(storage().put(_logo(), content_type="image/png", filename="logo.png").key)
        if representative:
            org.representative_signature_blob_id = int(
                storage().put(png(), content_type="image/png", filename="signature.png").key
            )
        fred = db.session.scalars(db.select(User).filter_by(email=f"fred@{slug}.fr")).one()
        training = Training(title="Sécurité au travail", planned_hours=7 * slots / 2, reference="SEC-01")
        days = max(1, (slots + 1) // 2)
        session = TrainingSession(
            training=training,
            start_date=first_day,
            end_date=first_day + timedelta(days=days - 1),
            timezone="Europe/Paris",
            location_name="Salle 4",
            location_address="12 rue de la Paix, 75002 Paris",
        )
        session.facilitators = [fred]
        db.session.add_all([training, session])
        slot_rows = []
        for k in range(slots):
            day = first_day + timedelta(days=k // 2)
            start, end = (time(9), time(12, 30)) if k % 2 == 0 else (time(13, 30), time(17))
            slot_rows.append(
                Slot(
                    session=session,
                    day=day,
                    kind="morning" if k % 2 == 0 else "afternoon",
                    starts_at=datetime.combine(day, start, PARIS).astimezone(UTC),
                    ends_at=datetime.combine(day, end, PARIS).astimezone(UTC),
                )
            )
        people = [Participant(first_name=f, last_name=last, company="Client SA") for f, last in names]
        db.session.add_all(slot_rows + people)
        db.session.flush()
        for p in people:
            db.session.add(Enrollment(session_id=session.id, participant_id=p.id, funder="opco"))
        world = SheetWorld(slug, session.id, [s.id for s in slot_rows], [p.id for p in people], [])
        world.names = [p.full_name for p in people]
        methods = (OWN_LINK, ROOM_CODE, FACILITATOR_DEVICE)
        for i, p in enumerate(people):
            for j, s in enumerate(slot_rows):
                what = pattern(i, j)
                if what is None:
                    continue
                planned = s.planned_minutes
                row = Attendance(
                    slot_id=s.id,
                    participant_id=p.id,
                    status=PRESENT,
                    late_minutes=0,
                    early_minutes=0,
                    attended_minutes=planned,
                )
                if what in ("signed", "late", "early", "late_early"):
                    minutes_late = 25 if what.startswith("late") else (i + j) % 5
                    row.signed_at = s.starts_at + timedelta(minutes=minutes_late)
                    row.method = methods[(i + j) % 3]
                    drawn = _thumbnail(i * 1000 + j) if distinct_signatures else thumb
                    blob = storage().put(drawn, content_type="image/png", filename="signature-thumb.png")
                    row.thumbnail_blob_id = row.signature_blob_id = int(blob.key)
                    row.signature_sha256 = blob.sha256
                    if what.startswith("late"):
                        row.status, row.late_minutes = LATE, 25
                    if what.endswith("early"):
                        row.early_minutes = 30
                    row.attended_minutes = planned - row.late_minutes - row.early_minutes
                elif what == "paper":
                    row.method, row.signed_at = PAPER, s.starts_at + timedelta(minutes=2)
                elif what == "absent":
                    row.status, row.attended_minutes = ABSENT, 0
                elif what == "excused":
                    row.status, row.attended_minutes, row.reason = EXCUSED, 0, "Rendez-vous médical"
                db.session.add(row)
                world.cells[(p.id, s.id)] = Cell(
                    row.status, row.method, row.signed_at, row.signature_sha256 is not None
                )
        if signed_off:
            for s in slot_rows:
                blob = storage().put(png(), content_type="image/png", filename="facilitator-signature.png")
                state = db.session.get(SlotState, s.id)  # made with the slot
                state.closed_at = state.signed_off_at = s.ends_at
                state.signed_off_by_user_id, state.signed_off_by_name = fred.id, fred.full_name
                state.signature_blob_id, state.signature_sha256 = int(blob.key), blob.sha256
        db.session.commit()
    return world


def _thumbnail(seed: int | None = None) -> bytes:
    """A signature's thumbnail as signing stores it; ``seed`` draws a different one."""
    from PIL import Image, ImageDraw

    from blueprints.signing import images

    if seed is None:
        return images.thumbnail(png())
    image = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    points = [(20 + k * 45, 60 + (seed * 7 + k * 13) % 120) for k in range(13)]
    ImageDraw.Draw(image).line(points, fill=(10, 10, 10, 255), width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return images.thumbnail(out.getvalue())


def _logo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 100), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((5, 5, 95, 95), fill=(20, 60, 140))
    draw.ellipse((110, 20, 170, 80), fill=(200, 80, 20))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def pdf_text(pdf: bytes) -> list[str]:
    """The text of each page, as pypdf extracts it."""
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def images_drawn(pdf: bytes) -> list[int]:
    """How many images each page draws (its ``Do`` operations on image XObjects, the QR included)."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(pdf))
    counts = []
    for page in reader.pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        images = {name for name, ref in xobjects.items() if ref.get_object().get("/Subtype") == "/Image"}
        operations = ContentStream(page.get_contents(), reader).operations
        counts.append(sum(1 for operands, op in operations if op == b"Do" and operands[0] in images))
    return counts


def save_artifact(pdf: bytes, name: str, *, required: bool = True) -> str | None:
    """The PDF and its first page as a PNG (pdftoppm, 60 dpi) under artifacts/, for a person to look at.

    Without pdftoppm the test is skipped, or, when the PNG is a by-product (``required`` False), goes on.
    """
    if shutil.which("pdftoppm") is None:
        if not required:
            return None
        pytest.skip("pdftoppm (poppler-utils) is not installed: no PNG of the rendered page")
    os.makedirs(ARTIFACTS, exist_ok=True)
    base = os.path.join(ARTIFACTS, name)
    with open(base + ".pdf", "wb") as f:
        f.write(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", base + ".pdf", base],
        check=True,
        timeout=60,
    )
    return base + ".png"
