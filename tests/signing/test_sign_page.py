"""The trainee's signing page: open the link, give the room code, sign, see the receipt; every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import login
from tests.signing.conftest import attendances, audit_actions, data_url, link_path, png, room_code


def sign(client, path, slot_id, *, code=None, image=None):
    data = {"slot": str(slot_id), "signature": data_url(image if image is not None else png())}
    if code is not None:
        data["code"] = code
    return client.post(path, data=data)


def test_open_sign_and_receipt(app, client, world):
    path = link_path(app, world, world.paul)
    page = client.get(path)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "You are Paul Martin." in body
    assert "Safety at work" in body
    assert "Room code" in body and "data-pad" in body
    assert "What is recorded, and why" in body
    # The token stays on this page: no referrer, no cache, no robot; no measurement script, no banner.
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert "audience.js" not in body and "consent.js" not in body
    assert 'class="consent"' not in body

    response = sign(client, path, world.open_slot, code=room_code(app, world, world.open_slot))
    assert response.status_code == 303
    receipt = client.get(response.headers["Location"])
    text = receipt.get_data(as_text=True)
    assert "Thank you: your signature is recorded." in text
    assert 'id="receipt"' in text and "data:image/png;base64," in text

    (row,) = attendances(app, world)
    assert row.participant_id == world.paul and row.slot_id == world.open_slot
    assert row.method == "room_code" and row.status == "present" and row.signed_at is not None
    assert len(row.signature_sha256) == 64 and row.thumbnail_blob_id and row.signature_blob_id
    assert row.ip == "127.0.0.1" and row.language == "en"
    assert "attendance.signed" in audit_actions(app, world.slug)


def test_a_double_submit_gives_the_same_record(app, client, world):
    path = link_path(app, world, world.paul)
    code = room_code(app, world, world.open_slot)
    first = sign(client, path, world.open_slot, code=code)
    second = sign(client, path, world.open_slot, code=code, image=png(700, 300))
    assert first.status_code == second.status_code == 303
    assert "done=already" in second.headers["Location"]
    assert len(attendances(app, world)) == 1
    assert audit_actions(app, world.slug).count("attendance.signed") == 1


def test_remote_slot_needs_no_room_code(app, client, world):
    path = link_path(app, world, world.paul)
    assert sign(client, path, world.remote_slot).status_code == 303
    (row,) = attendances(app, world)
    assert row.method == "own_link"


def test_a_bad_signature_is_refused_with_nothing_recorded(app, client, world):
    path = link_path(app, world, world.paul)
    response = sign(
        client, path, world.open_slot, code=room_code(app, world, world.open_slot), image=png(ink=False)
    )
    assert response.status_code == 422
    assert "empty or too small" in response.get_data(as_text=True)
    assert attendances(app, world) == []
    assert "attendance.signed" not in audit_actions(app, world.slug)


def test_an_oversized_body_is_refused(app, client, world):
    path = link_path(app, world, world.paul)
    response = client.post(path, data={"slot": world.open_slot, "signature": "x" * (500 * 1024)})
    assert response.status_code == 413
    assert attendances(app, world) == []


def test_not_a_data_url(app, client, world):
    path = link_path(app, world, world.paul)
    response = client.post(
        path,
        data={
            "slot": world.open_slot,
            "code": room_code(app, world, world.open_slot),
            "signature": "data:image/jpeg;base64,AAAA",
        },
    )
    assert response.status_code == 422
    response = client.post(
        path,
        data={
            "slot": world.open_slot,
            "code": room_code(app, world, world.open_slot),
            "signature": "data:image/png;base64,@@@",
        },
    )
    assert response.status_code == 422
    assert attendances(app, world) == []


def test_wrong_code_future_and_past_slots(app, client, world):
    path = link_path(app, world, world.paul)
    wrong = sign(client, path, world.open_slot, code="ZZZZZZ")
    assert wrong.status_code == 422 and "room code is not valid" in wrong.get_data(as_text=True)
    future = sign(client, path, world.future_slot, code=room_code(app, world, world.future_slot))
    assert future.status_code == 409 and "opens at" in future.get_data(as_text=True)
    past = sign(client, path, world.past_slot, code=room_code(app, world, world.past_slot))
    assert past.status_code == 409 and "closed" in past.get_data(as_text=True)
    assert attendances(app, world) == []


def test_a_slot_of_another_session_is_refused(app, client, world):
    path = link_path(app, world, world.paul)
    assert sign(client, path, 9999, code="AAAAAA").status_code == 409


def test_restricted_participant_cannot_be_asked_to_sign(app, client, world):
    path = link_path(app, world, world.rita)
    page = client.get(path).get_data(as_text=True)
    assert "cannot be asked to sign" in page and "data-pad" not in page
    response = sign(client, path, world.open_slot, code=room_code(app, world, world.open_slot))
    assert response.status_code == 403
    assert attendances(app, world) == []


def test_a_facilitators_account_cannot_send_a_trainees_signature(app, client, world):
    path = link_path(app, world, world.paul)
    login(client, world.slug, world.facilitator)
    response = sign(client, path, world.open_slot, code=room_code(app, world, world.open_slot))
    assert response.status_code == 403
    assert "log out first" in response.get_data(as_text=True)
    assert attendances(app, world) == []


def test_trainee_pages_set_no_cookie_but_technical_ones(app, client, world):
    from blueprints.privacy.cookies import REGISTRY, TECHNICAL

    technical = {c.name for c in REGISTRY if c.category == TECHNICAL}
    path = link_path(app, world, world.paul)
    responses = [
        client.get(path),
        sign(client, path, world.open_slot, code=room_code(app, world, world.open_slot)),
    ]
    for response in responses:
        for header in response.headers.getlist("Set-Cookie"):
            assert header.split("=", 1)[0] in technical, header


def test_closed_and_locked_slots(app, client, world):
    from blueprints.audit.services import Actor
    from blueprints.signing import signoffs
    from blueprints.trainings.models import Slot
    from tenants import tenant_scope
    from tenants.db import db

    path = link_path(app, world, world.paul)
    with tenant_scope(world.slug, app):
        signoffs.close_slot(db.session.get(Slot, world.open_slot), Actor.system())
        db.session.commit()
    closed = sign(client, path, world.open_slot, code=room_code(app, world, world.open_slot))
    assert closed.status_code == 409 and "closed" in closed.get_data(as_text=True)
    # The remote slot is signed off by the facilitator: locked.
    from blueprints.accounts.models import User

    with tenant_scope(world.slug, app):
        fred = db.session.query(User).filter_by(email=world.facilitator).one()
        signoffs.sign_off(db.session.get(Slot, world.remote_slot), png(), fred, Actor.for_user(fred))
        db.session.commit()
    locked = sign(client, path, world.remote_slot)
    assert locked.status_code == 409 and "signed this slot off" in locked.get_data(as_text=True)
    rows = attendances(app, world)
    # Sign-off recorded those who had not signed as absent; no signature anywhere.
    assert {(r.slot_id, r.status) for r in rows} == {(world.remote_slot, "absent")}
    assert all(r.signature_sha256 is None for r in rows)


def test_page_says_when_signing_opens(app, client, world):
    from blueprints.trainings.models import Slot
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        for slot_id in (world.open_slot, world.remote_slot):
            slot = db.session.get(Slot, slot_id)
            slot.starts_at += timedelta(hours=5)
            slot.ends_at += timedelta(hours=5)
        db.session.commit()
    body = client.get(link_path(app, world, world.paul)).get_data(as_text=True)
    assert "Signing for this slot opens on" in body
    assert "data-pad" not in body
    assert datetime.now(UTC)  # the page used the server's clock


def test_the_page_speaks_the_participants_language(app, client, world):
    # Zoe's language is French, whatever the browser asks for; Paul's is English.
    assert '<html lang="fr">' in client.get(link_path(app, world, world.zoe)).get_data(as_text=True)
    assert '<html lang="en">' in client.get(link_path(app, world, world.paul)).get_data(as_text=True)
