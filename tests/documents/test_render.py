"""The PDFs themselves: what each document carries, read back with pypdf, and what it flags when data is bad."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.documents.conftest import (
    PARIS,
    build_sheet_world,
    images_drawn,
    pdf_text,
    save_artifact,
    stamp,
)

FLAG = "[name in a script the document font cannot print]"
CELL_TIME = re.compile(r"(\d\d:\d\d) · (L\+C|L|D|P)\b")
CODES = {"own_link": "L", "room_code": "L+C", "facilitator_device": "D", "paper": "P"}


def render(app, world, kind, *, participant=None, slot=None, language="en", **options):
    """``kind`` about the world's session (or one of its participants or slots, by position)."""
    from blueprints.documents.render import render_document
    from blueprints.participants.models import Participant
    from blueprints.trainings.models import Slot, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        session = db.session.get(TrainingSession, world.session_id)
        subject = {}
        if participant is not None:
            subject["participant"] = db.session.get(Participant, world.participant_ids[participant])
        if slot is not None:
            subject["slot"] = db.session.get(Slot, world.slot_ids[slot])
        return render_document(
            kind,
            session=session,
            stamp=options.pop("stamp", stamp()),
            language=language,
            **subject,
            **options,
        )


def flat(text: str) -> str:
    """Text with its line breaks as spaces: a cell wraps where the PDF's width says."""
    return " ".join(text.split())


def local(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(PARIS).strftime("%H:%M")


def expected_cells(world, participants=None, slots=None) -> Counter:
    """The "HH:MM · method" lines the sheet must print: one per signed (or paper) attendance."""
    wanted = Counter()
    for (pid, sid), cell in world.cells.items():
        if participants is not None and pid not in participants or slots is not None and sid not in slots:
            continue
        if cell.signed_at is not None and cell.status in ("present", "late"):
            wanted[(local(cell.signed_at), CODES[cell.method])] += 1
    return wanted


def count_queries(app):
    """Count the SQL statements run while the block is open: ``with count_queries(app) as n: …; n[0]``."""
    from contextlib import contextmanager

    from sqlalchemy import event

    from tenants.db import db

    @contextmanager
    def counting():
        seen = [0]

        def before(*args, **kwargs):
            seen[0] += 1

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting()


# --- the session sheet ---------------------------------------------------------------------------------------


def test_session_sheet_carries_the_required_fields(app, make_tenant):
    world = build_sheet_world(app, make_tenant, participants=4, slots=4)
    with count_queries(app) as queries:
        rendered = render(app, world, "session_sheet")
    text = flat("\n".join(pdf_text(rendered.pdf)))

    assert rendered.pages == 1 and rendered.pdf.startswith(b"%PDF")
    for required in (
        "Acme Formation",  # organization
        "1 rue X, 75001 Paris",
        "SIRET 73282932000074",
        "Declaration of activity no. 11755555575",
        "Attendance sheet",
        "Sécurité au travail",
        "Nature of the action: Training action",
        "from 2 November 2026 to 3 November 2026",
        "Salle 4, 12 rue de la Paix, 75002 Paris",
        "Facilitators: Fred Acme",
        "Mon 2 Nov 2026",
        "09:00–12:30",
        "13:30–17:00",
        "Hours attended",
        "Facilitator's",
        "Verification code 7KQ2-M9XD",
        "version 1",
        "http://localhost/verify/7KQ2-M9XD",
        "Page 1 of 1",
    ):
        assert required in text, required
    for name in world.names:
        assert name in text
    statuses = {c.status for c in world.cells.values()}
    assert statuses >= {"present", "late", "excused"}
    for status, label in (("absent", "Absent"), ("excused", "Excused absence"), ("late", "Late (25 min)")):
        assert (label in text) == (status in statuses)
    # A fixed number of statements, whatever the size: no query per cell.
    assert queries[0] <= 15
    assert rendered.notes == []


def test_signatures_placed_match_the_attendance_records(app, make_tenant):
    world = build_sheet_world(app, make_tenant, participants=5, slots=4)
    rendered = render(app, world, "session_sheet")
    text = pdf_text(rendered.pdf)[0]

    printed = Counter(CELL_TIME.findall(text))
    assert printed == expected_cells(world)
    signed = sum(1 for cell in world.cells.values() if cell.signed)
    # Each drawn signature, each slot's sign-off, the QR and the logo; nothing else, nothing missing.
    assert images_drawn(rendered.pdf) == [signed + len(world.slot_ids) + 2]


def test_attended_hours_per_participant(app, make_tenant):
    # Everyone signs on time except the second participant, late by 25 min once and absent once.
    def pattern(i, j):
        return {(1, 0): "late", (1, 1): "absent"}.get((i, j), "signed")

    world = build_sheet_world(app, make_tenant, participants=2, slots=2, pattern=pattern)
    text = pdf_text(render(app, world, "session_sheet").pdf)[0]

    # On time (0 or 1 min after the start in the fixture) means the whole 3 h 30 counts.
    assert "7 h / 7 h" in text
    assert "3 h 05 / 7 h" in text


@pytest.mark.slow
def test_sixty_by_twenty_paginates_with_every_row_and_column(app, make_tenant):
    from blueprints.documents.render import PARTICIPANTS_PER_PAGE, SLOTS_PER_PAGE, groups

    world = build_sheet_world(app, make_tenant, participants=60, slots=20)
    with count_queries(app) as queries:
        rendered = render(app, world, "session_sheet")
    pages = pdf_text(rendered.pdf)

    row_groups = groups(world.names, PARTICIPANTS_PER_PAGE)
    column_groups = groups(world.slot_ids, SLOTS_PER_PAGE)
    assert (len(row_groups), len(column_groups)) == (8, 4)
    # One page per row group × column group: nothing spilled onto a page of its own.
    assert rendered.pages == len(pages) == 32
    save_artifact(rendered.pdf, "session_sheet_60x20", required=False)
    assert queries[0] <= 15
    # The fixture's slots: two a day from Monday 2 November 2026, morning then afternoon.
    days = [date(2026, 11, 2) + timedelta(days=k // 2) for k in range(20)]
    headings = {
        sid: f"{day:%a} {day.day} {day:%b %Y} " + ("09:00–12:30" if k % 2 == 0 else "13:30–17:00")
        for k, (sid, day) in enumerate(zip(world.slot_ids, days, strict=True))
    }
    assert headings[world.slot_ids[19]] == "Wed 11 Nov 2026 13:30–17:00"
    index = 0
    for names in row_groups:
        for c, slot_ids in enumerate(column_groups):
            page = pages[index]
            index += 1
            assert f"Page {index} of 32" in page
            assert "Sécurité au travail" in page and "Acme Formation" in page  # the header line
            for name in names:
                assert name in page
            others = [n for n in world.names if n not in names]
            assert not any(f"\n{n}\n" in page for n in others)
            for sid in world.slot_ids:
                assert (headings[sid] in flat(page)) == (sid in slot_ids)
            pids = {world.participant_ids[world.names.index(n)] for n in names}
            assert Counter(CELL_TIME.findall(page)) == expected_cells(world, pids, set(slot_ids))
            assert ("Hours attended" in flat(page)) == (c == len(column_groups) - 1)


def test_slots_signed_on_paper_are_noted(app, make_tenant):
    from blueprints.documents.models import PaperSheet
    from tenants import tenant_scope
    from tenants.db import db

    world = build_sheet_world(app, make_tenant, participants=3, slots=2)
    with tenant_scope(world.slug, app):
        db.session.add(
            PaperSheet(
                slot_id=world.slot_ids[1],
                blob_key="1",
                filename="scan.pdf",
                content_type="application/pdf",
                size=10,
                sha256="0" * 64,
                confirmed_by_name="Fred Acme",
            )
        )
        db.session.commit()
    rendered = render(app, world, "session_sheet")
    text = pdf_text(rendered.pdf)[0]

    assert "Signed on paper (scan on file)" in text
    assert any(
        n.startswith("Signed on paper, scan on file: Mon 2 Nov 2026 13:30–17:00") for n in rendered.notes
    )


# --- the other documents -------------------------------------------------------------------------------------


def test_participant_sheet(app, make_tenant):
    world = build_sheet_world(app, make_tenant, participants=3, slots=4)
    rendered = render(app, world, "participant_sheet", participant=1)
    text = flat(pdf_text(rendered.pdf)[0])

    pid = world.participant_ids[1]
    assert "Individual attendance sheet" in text
    assert world.names[1] in text and world.names[0] not in text
    assert "Client SA" in text and "OPCO (skills operator)" in text
    for (who, _slot), cell in world.cells.items():
        if who == pid and cell.signed_at is not None:
            assert local(cell.signed_at) in text
    signed = sum(1 for (who, _), cell in world.cells.items() if who == pid and cell.signed)
    assert images_drawn(rendered.pdf) == [signed + len(world.slot_ids) + 2]
    assert "scheduled" in text and "/ 14 h" in text


def test_slot_sheet(app, make_tenant):
    world = build_sheet_world(app, make_tenant, participants=6, slots=2)
    rendered = render(app, world, "slot_sheet", slot=1)
    text = flat(pdf_text(rendered.pdf)[0])

    sid = world.slot_ids[1]
    assert "Half-day attendance sheet" in text and "Mon 2 Nov 2026, 13:30–17:00" in text
    for name in world.names:
        assert name in text
    signed = [cell for (_, s), cell in world.cells.items() if s == sid and cell.signed]
    assert images_drawn(rendered.pdf) == [len(signed) + 1 + 2]
    for cell in signed:
        assert local(cell.signed_at) in text
    assert "Fred Acme" in text  # the sign-off


def test_blank_slot_sheet_has_empty_boxes(app, make_tenant):
    world = build_sheet_world(app, make_tenant, participants=5, slots=2)
    rendered = render(app, world, "blank_slot_sheet", slot=0)
    text = flat(pdf_text(rendered.pdf)[0])

    assert "Paper attendance sheet" in text and "Mon 2 Nov 2026, 09:00–12:30" in text
    for name in world.names:
        assert name in text
    assert "Facilitator: name and signature" in text
    assert images_drawn(rendered.pdf) == [2]  # the logo and the QR: no signature, whatever was recorded
    assert not CELL_TIME.search(text)


def test_certificate_on_the_ministry_model(app, make_tenant):
    world = build_sheet_world(app, make_tenant, participants=2, slots=4, pattern=lambda i, j: "signed")
    rendered = render(app, world, "certificate", participant=0)
    text = flat(pdf_text(rendered.pdf)[0])

    for required in (
        "Certificate of completion",
        "Acme Formation",
        "Declaration of activity no. 11755555575",
        "SIRET 73282932000074",
        "1 rue X, 75001 Paris",
        world.names[0],
        "employee of the company Client SA",
        "attended the action Sécurité au travail",
        "☒ Training action",
        "☐ Skills assessment",
        "☐ Validation of prior learning",
        "☐ Apprenticeship",
        "from 2 November 2026 to 3 November 2026",
        "planned duration of 14 h",
        "Hours attended by the trainee: 14 h",
        "Done at Paris",
        "on 26 November 2026",
        "Ada Lovelace, Directrice",
        "Verification code 7KQ2-M9XD",
    ):
        assert required in text, required
    assert images_drawn(rendered.pdf) == [3]  # logo, the representative's signature, QR
    assert rendered.notes == []


def test_the_qr_is_the_verification_url(app, make_tenant):
    import io

    import segno
    from PIL import Image, ImageChops
    from pypdf import PdfReader

    world = build_sheet_world(app, make_tenant, participants=1, slots=1)
    rendered = render(app, world, "slot_sheet", slot=0, stamp=stamp("ABCD-EFGH", version=4))
    assert "Verification code ABCD-EFGH · version 4" in flat(pdf_text(rendered.pdf)[0])
    expected = io.BytesIO()
    segno.make("http://localhost/verify/ABCD-EFGH", error="m").save(expected, kind="png", scale=4, border=1)
    expected = Image.open(expected).convert("L")
    drawn = [i.image.convert("L") for i in PdfReader(io.BytesIO(rendered.pdf)).pages[0].images]
    assert any(i.size == expected.size and not ImageChops.difference(i, expected).getbbox() for i in drawn)


def test_certificate_language(app, make_tenant):
    world = build_sheet_world(app, make_tenant, participants=1, slots=2)
    french = flat(pdf_text(render(app, world, "certificate", participant=0, language="fr").pdf)[0])
    english = flat(pdf_text(render(app, world, "certificate", participant=0, language="en").pdf)[0])

    assert "Action de formation" in french and "2 novembre 2026" in french
    assert "Training action" in english and "2 November 2026" in english


# --- names and scripts ---------------------------------------------------------------------------------------


def test_greek_cyrillic_and_accented_names_are_printed(app, make_tenant):
    names = [("Ζωή", "Παπαδοπούλου"), ("Иван", "Петров"), ("Åsa-Léonie", "Nguyễn Çelik")]
    world = build_sheet_world(app, make_tenant, names=names, slots=2)
    for kind, subject in (("session_sheet", {}), ("participant_sheet", {"participant": 0})):
        rendered = render(app, world, kind, **subject)
        text = flat(pdf_text(rendered.pdf)[0])
        for first, last in names if kind == "session_sheet" else names[:1]:
            assert f"{first} {last}" in text
        assert FLAG not in text and rendered.notes == []


def test_a_script_the_font_cannot_draw_is_flagged(app, make_tenant):
    from blueprints.documents.text import unprintable

    names = [("王伟", "Wang"), ("देवनागरी", "शर्मा"), ("Paul", "Martin")]
    assert unprintable("王伟") and unprintable("शर्मा") and not unprintable("Ζωή Иван")
    world = build_sheet_world(app, make_tenant, names=names, slots=2)
    for kind, subject in (("session_sheet", {}), ("certificate", {"participant": 0})):
        rendered = render(app, world, kind, **subject)
        text = "\n".join(pdf_text(rendered.pdf))
        assert f"{FLAG} (Wang)" in text  # with the Latin part typed alongside
        assert not re.search("[\u4e00-\u9fff\u0900-\u097f]", text)  # never drawn as boxes
        assert any("(Wang)" in note and "cannot print" in note for note in rendered.notes)
        if kind == "session_sheet":
            assert "Paul Martin" in text
            assert text.count(FLAG) >= 2  # the Devanagari name, wholly flagged, too
            assert any(note.endswith(f"{FLAG}.") for note in rendered.notes)


# --- bad input -----------------------------------------------------------------------------------------------


def test_bad_input_still_renders_and_says_what_is_missing(app, make_tenant):
    from sqlalchemy import update

    from blueprints.participants.models import Participant
    from blueprints.signing.models import Attendance
    from tenants import tenant_scope
    from tenants.db import db, utcnow
    from tenants.storage import Blob

    long_first, long_last = "Hubert-Blaine-Maximilian-Wolfgang", "Wolfeschlegelsteinhausenbergerdorff" * 2
    world = build_sheet_world(
        app,
        make_tenant,
        names=[(long_first, long_last), ("Zoé", "Sans-Entreprise"), ("Ada", "Archivée")],
        slots=2,
        pattern=lambda i, j: "signed",
        logo=False,
        representative=False,
    )
    first, nocompany, archived = world.participant_ids
    with tenant_scope(world.slug, app):
        db.session.execute(update(Participant).where(Participant.id == nocompany).values(company=None))
        db.session.execute(update(Participant).where(Participant.id == archived).values(archived_at=utcnow()))
        # A signature whose image was lost, and a presence the facilitator recorded without one.
        lost = db.session.scalars(
            db.select(Attendance).where(
                Attendance.participant_id == first, Attendance.slot_id == world.slot_ids[0]
            )
        ).one()
        db.session.execute(db.delete(Blob).where(Blob.id == lost.thumbnail_blob_id))
        db.session.execute(
            update(Attendance)
            .where(Attendance.participant_id == first, Attendance.slot_id == world.slot_ids[1])
            .values(signature_sha256=None, thumbnail_blob_id=None, signature_blob_id=None, method=None)
        )
        db.session.commit()

    sheet = render(app, world, "session_sheet")
    text = pdf_text(sheet.pdf)[0]
    assert sheet.pages == 1
    grid = "".join(text.split())  # wrapped in its cell
    assert f"{long_first}{long_last[:20]}" in grid and long_last not in grid and "…" in grid  # shortened
    assert "signature image missing" in text and "no signature" in text
    assert "(archived)" in text
    # A logo is optional: its absence is no remark on a paper handed to a funder.
    assert not any("logo" in n for n in sheet.notes)
    assert "1 signature(s) recorded without their image." in sheet.notes
    assert "1 presence(s) recorded without a signature." in sheet.notes
    assert any("is archived in the directory" in n for n in sheet.notes)
    assert "Remarks: missing or flagged" in text

    own = render(app, world, "participant_sheet", participant=0)
    assert own.pages == 1
    assert f"{long_first}{long_last}" in "".join(pdf_text(own.pdf)[0].split())  # whole, wrapped
    certificate = render(app, world, "certificate", participant=1)
    text = pdf_text(certificate.pdf)[0]
    assert "employee of the company not stated" in text
    assert "Signature missing" in text
    assert any("employer" in n and "is not stated" in n for n in certificate.notes)
    assert "The representative's signature is missing from the organization's settings." in certificate.notes


def test_a_session_without_slots(app, make_tenant):
    world = build_sheet_world(app, make_tenant, participants=2, slots=0)
    for kind, subject in (("session_sheet", {}), ("participant_sheet", {"participant": 0})):
        rendered = render(app, world, kind, **subject)
        assert "No half-day planned" in pdf_text(rendered.pdf)[0]
        assert "No half-day is planned for this session." in rendered.notes
    certificate = render(app, world, "certificate", participant=0)
    assert "Hours attended by the trainee: 0 h" in pdf_text(certificate.pdf)[0]


def test_a_certificate_lists_only_what_it_lacks(app, make_tenant):
    from sqlalchemy import update

    from blueprints.participants.models import Participant
    from blueprints.trainings.models import REMOTE, Slot
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    world = build_sheet_world(app, make_tenant, participants=2, slots=2, signed_off=False)
    with tenant_scope(world.slug, app):
        db.session.execute(update(Slot).values(modality=REMOTE))
        db.session.execute(update(Participant).values(archived_at=utcnow()))
        db.session.commit()
    sheet = render(app, world, "session_sheet")
    assert any(n.startswith("Not signed off by a facilitator:") for n in sheet.notes)
    assert any(n.endswith("is archived in the directory.") for n in sheet.notes)
    assert "Location: Remote" in flat(pdf_text(sheet.pdf)[0])
    certificate = render(app, world, "certificate", participant=0)
    assert certificate.notes == []


def test_a_session_without_participants(app, make_tenant):
    world = build_sheet_world(app, make_tenant, participants=0, names=[], slots=2)
    for kind, subject in (
        ("session_sheet", {}),
        ("slot_sheet", {"slot": 0}),
        ("blank_slot_sheet", {"slot": 0}),
    ):
        rendered = render(app, world, kind, **subject)
        assert rendered.pages == 1
        assert "No participant is enrolled in this session." in rendered.notes


def test_markup_in_names_is_text(app, make_tenant):
    names = [("<img src='/etc/passwd'>", "<b>Bold</b>")]
    world = build_sheet_world(app, make_tenant, names=names, slots=1, logo=False)
    rendered = render(app, world, "session_sheet")
    assert "<img src='/etc/passwd'> <b>Bold</b>" in flat(pdf_text(rendered.pdf)[0])
    assert images_drawn(rendered.pdf) == [3]  # the signature, the sign-off and the QR; no fetched file


# --- the API around the render -------------------------------------------------------------------------------


def test_progress_and_bad_calls(app, make_tenant):
    from blueprints.documents.facts import RenderError

    world = build_sheet_world(app, make_tenant, participants=1, slots=1)
    steps = []
    render(app, world, "slot_sheet", slot=0, progress=lambda done, total: steps.append((done, total)))
    assert steps == [(0, 3), (1, 3), (2, 3), (3, 3)]
    with pytest.raises(RenderError):
        render(app, world, "certificate")
    with pytest.raises(RenderError):
        render(app, world, "slot_sheet")
    with pytest.raises(RenderError):
        render(app, world, "session_archive")


def test_file_names_are_ascii(app, make_tenant):
    from blueprints.documents.render import filename_for
    from blueprints.participants.models import Participant
    from blueprints.trainings.models import Slot, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    world = build_sheet_world(app, make_tenant, names=[("Ζωή", "Émilie-Ñúñez")], slots=1)
    with tenant_scope(world.slug, app):
        session = db.session.get(TrainingSession, world.session_id)
        person = db.session.get(Participant, world.participant_ids[0])
        slot = db.session.get(Slot, world.slot_ids[0])
        names = [
            filename_for("session_sheet", session=session, version=1, language="fr"),
            filename_for("certificate", session=session, participant=person, version=3, language="fr"),
            filename_for("slot_sheet", session=session, slot=slot, version=2, language="fr"),
        ]
    # One pattern, in the organization's language (French here).
    assert names == [
        "feuille-emargement-securite-au-travail-2026-11-02-v1.pdf",
        "certificat-realisation-securite-au-travail-2026-11-02-emilie-nunez-v3.pdf",
        "feuille-demi-journee-securite-au-travail-2026-11-02-0900-v2.pdf",
    ]


def test_every_file_follows_one_pattern_in_the_organizations_language(app, make_tenant):
    """PDFs, the attendance export (CSV, XLSX), the session's ZIP, the roster and the audit trail: what, subject,
    date, person, version; French words for a French organization, English ones for an English one."""
    from blueprints.documents.exports import export_filename
    from blueprints.documents.render import filename_for
    from blueprints.shared.filenames import file_name
    from blueprints.trainings.models import TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    world = build_sheet_world(app, make_tenant, slots=1)
    with tenant_scope(world.slug, app):
        session = db.session.get(TrainingSession, world.session_id)
        french = [
            filename_for("session_sheet", session=session, version=1, language="fr"),
            export_filename(session, "csv", "fr"),
            export_filename(session, "xlsx", "fr"),
            file_name(
                "session_archive",
                session.training.title,
                "2026-11-02",
                extension="zip",
                language="fr",
                version=2,
            ),
            file_name("audit", "2026-12-03", extension="csv", language="fr"),
        ]
    assert french == [
        "feuille-emargement-securite-au-travail-2026-11-02-v1.pdf",
        "presences-securite-au-travail-2026-11-02.csv",
        "presences-securite-au-travail-2026-11-02.xlsx",
        "documents-securite-au-travail-2026-11-02-v2.zip",
        "journal-audit-2026-12-03.csv",
    ]
    with app.app_context():
        english = [
            file_name(what, "Sécurité au travail", "2026-11-02", extension="pdf", language="en")
            for what in ("session_sheet", "certificate", "attendance_export", "roster")
        ]
    assert english == [
        "attendance-sheet-securite-au-travail-2026-11-02.pdf",
        "certificate-securite-au-travail-2026-11-02.pdf",
        "attendance-securite-au-travail-2026-11-02.pdf",
        "roster-securite-au-travail-2026-11-02.pdf",
    ]


@pytest.mark.slow
def test_one_page_of_each_kind_as_png(app, make_tenant):
    """Writes artifacts/<kind>.png (the test run prints the folder) for a person to look at."""
    import os

    world = build_sheet_world(
        app,
        make_tenant,
        names=[
            ("Ζωή", "Παπαδοπούλου"),
            ("Иван", "Петров"),
            ("Élodie", "Dupré"),
            ("王伟", "Wang"),
            ("Paul", "Martin"),
        ],
        slots=8,
    )
    subjects = {
        "session_sheet": {},
        "participant_sheet": {"participant": 0},
        "slot_sheet": {"slot": 1},
        "blank_slot_sheet": {"slot": 2},
        "certificate": {"participant": 2},
    }
    for kind, subject in subjects.items():
        rendered = render(app, world, kind, language="fr", **subject)
        picture = save_artifact(rendered.pdf, kind)
        assert os.path.getsize(picture) > 5_000
        with open(picture, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
