"""Each anomaly check triggered by a crafted case, and none on a clean session; the findings on the session's
page and in the organization's report link to the records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import update

from tests.tracking.conftest import tracked

# Tuesday 29 and Wednesday 30 April 2025, and Thursday 1 May 2025 (Labour Day, a public holiday).
DAYS = [date(2025, 4, 29), date(2025, 4, 30), date(2025, 5, 1)]


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def test_each_check_fires_on_its_crafted_case_and_never_on_a_clean_session(app, admin_client):
    from blueprints.accounts.models import User, organization
    from blueprints.documents.models import CERTIFICATE, Document, subject_key
    from blueprints.signing.models import SlotState
    from blueprints.tracking import anomalies
    from tenants import find_tenant, tenant_scope
    from tenants.db import db

    client = admin_client()
    with app.app_context():
        acme = find_tenant(slug="acme")
    phone = "Mozilla/5.0 (iPhone)"
    present = ("present", 180, 0, 0)
    marks = {
        # Alice: on the holiday, and from the same phone as Bruno within 20 seconds.
        ("Alice", 4): present,
        ("Alice", 1): ("present", 180, 0, 0, at(DAYS[0], 13, 1, 0), "203.0.113.7", phone, None, "own_link"),
        ("Bruno", 1): ("present", 180, 0, 0, at(DAYS[0], 13, 1, 20), "203.0.113.7", phone, None, "own_link"),
        # Bruno: his own link, two hours before the half-day opened.
        ("Bruno", 0): ("present", 180, 0, 0, at(DAYS[0], 7), None, None, None, "own_link"),
        # Carla: a third signer of half-day 1 (capacity 2), and one image on two half-days.
        ("Carla", 1): present,
        ("Carla", 2): ("present", 180, 0, 0, None, None, None, "c" * 64, "own_link"),
        ("Carla", 3): ("present", 180, 0, 0, None, None, None, "c" * 64, "own_link"),
        # Dora: absent, with a signature.
        ("Dora", 2): ("absent", 0, 0, 0, None, None, None, "d" * 64, None),
        # Emma: every half-day of a 6-half-day session, each signed at its very start.
        **{("Emma", n): present for n in range(6)},
    }
    a = tracked(
        app,
        acme,
        days=DAYS,
        people=["Alice", "Bruno", "Carla", "Dora", "Emma"],
        marks=marks,
        signed_off={0, 1, 2, 3, 4},
        capacity=2,
        facilitator_email="fred@acme.fr",
        title="Crafted",
    )
    # Alice present elsewhere at the same time as half-day 0; Fred signs both sessions' half-days off.
    b = tracked(
        app,
        acme,
        days=DAYS[:1],
        people=["Alice"],
        reuse={"Alice": a.people["Alice"]},
        title="Elsewhere",
        signed_off={0},
        marks={("Alice", 0): ("present", 180, 0, 0, at(DAYS[0], 9), None, None, "e" * 64, "own_link")},
    )
    clean = tracked(
        app,
        acme,
        days=[date(2025, 4, 28)],
        people=["Zoe"],
        marks={("Zoe", 0): present, ("Zoe", 1): present},
        signed_off={0, 1},
        title="Clean",
    )
    with tenant_scope(acme, app):
        from blueprints.signing.models import Attendance

        db.session.add(
            Attendance(
                slot_id=a.slot_ids[0],
                participant_id=a.people["Alice"],
                status="present",
                attended_minutes=180,
                signed_at=at(DAYS[0], 9, 2),
                signature_sha256="f" * 64,
                method="own_link",
            )
        )
        fred_id = db.session.query(User).filter_by(email="fred@acme.fr").one().id
        db.session.execute(
            update(SlotState)
            .where(SlotState.slot_id.in_([a.slot_ids[0], b.slot_ids[0]]))
            .values(signed_off_by_user_id=fred_id)
        )
        # A certificate stating more hours than Alice attended.
        db.session.add(
            Document(
                kind=CERTIFICATE,
                subject_key=subject_key(a.session_id, participant_id=a.people["Alice"]),
                session_id=a.session_id,
                participant_id=a.people["Alice"],
                version=1,
                blob_key="1",
                filename="c.pdf",
                content_type="application/pdf",
                size=1,
                sha256="0" * 64,
                verification_code="ANOM-0001",
                hours=Decimal("21.00"),
            )
        )
        db.session.commit()
        found = anomalies.of_sessions([a.session_id, clean.session_id], organization())
    codes = {f.code: f for f in found[a.session_id]}
    assert set(codes) == set(anomalies.CHECKS), set(anomalies.CHECKS) - set(codes)
    who = {}
    for f in found[a.session_id]:
        who.setdefault(f.code, set()).update(f.participant_ids)
    assert who["holiday"] >= {a.people["Alice"], a.people["Emma"]}
    assert who["outside_window"] == {a.people["Bruno"]}
    assert who["same_device"] == {a.people["Alice"], a.people["Bruno"]}
    assert who["same_image"] == {a.people["Carla"]} and codes["same_image"].slot_ids == a.slot_ids[2:4]
    assert who["signed_absent"] == {a.people["Dora"]}
    assert codes["no_signoff"].slot_ids == [a.slot_ids[5]]
    assert codes["over_capacity"].detail == "4 / 2"  # Alice, Bruno, Carla and Emma
    assert who["same_times"] == {a.people["Emma"]}
    assert codes["two_places"].slot_ids == [a.slot_ids[0], b.slot_ids[0]]
    assert codes["facilitator_two_places"].user_ids == [fred_id]
    assert who["certificate_hours"] == {a.people["Alice"]} and codes["certificate_hours"].detail.startswith(
        "21 h"
    )
    assert found[clean.session_id] == []

    # The session's page says why and links to the records.
    page = client.get(f"/acme/sessions/{a.session_id}/attendance").get_data(as_text=True)
    assert page.count("data-finding=") >= len(anomalies.CHECKS)
    assert "one person signing for others" in page and f"/acme/slots/{a.slot_ids[5]}/live" in page
    assert f"/acme/participants/{a.people['Dora']}/attendance" in page
    assert "Nothing an auditor would question" in client.get(
        f"/acme/sessions/{clean.session_id}/attendance"
    ).get_data(as_text=True)


def test_alsace_moselle_holidays_count_only_where_the_organization_chose_them(app, admin_client):
    from blueprints.accounts.models import organization
    from blueprints.tracking import anomalies
    from tenants import find_tenant, tenant_scope
    from tenants.db import db

    admin_client()
    with app.app_context():
        acme = find_tenant(slug="acme")
    # Friday 18 April 2025: Good Friday, a public holiday in Alsace-Moselle only.
    world = tracked(
        app, acme, days=[date(2025, 4, 18)], people=["Ana"], marks={("Ana", 0): ("present", 180, 0, 0)}
    )
    with tenant_scope(acme, app):
        assert [
            f.code for f in anomalies.of_sessions([world.session_id], organization())[world.session_id]
        ] == []
        organization().alsace_moselle = True
        db.session.commit()
        assert [
            f.code for f in anomalies.of_sessions([world.session_id], organization())[world.session_id]
        ] == ["holiday"]
