"""The live page, its change check, the facilitator's marks and the facilitator's device mode."""

from __future__ import annotations

import re

from sqlalchemy import event

from tests.conftest import login
from tests.signing.conftest import attendances, audit_actions, data_url, link_path, png, room_code


def _poll_of(page: str) -> tuple[str, str]:
    found = re.search(r'data-poll-url="([^"]+)" data-version="([^"]*)"', page)
    return found.group(1), found.group(2)


def _trainee_signs(app, world, participant_id, slot_id):
    trainee = app.test_client()
    response = trainee.post(
        link_path(app, world, participant_id),
        data={"slot": slot_id, "code": room_code(app, world, slot_id), "signature": data_url(png())},
    )
    assert response.status_code == 303


def test_the_change_check_answers_204_until_something_changes(app, client, world):
    login(client, world.slug, world.facilitator)
    page = client.get(f"/{world.slug}/slots/{world.open_slot}/live")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "0</strong> / <span data-expected>3</span>" in body
    url, version = _poll_of(body)
    assert client.get(f"{url}?v={version}").status_code == 204

    _trainee_signs(app, world, world.paul, world.open_slot)
    changed = client.get(f"{url}?v={version}")
    assert changed.status_code == 200 and changed.get_data(as_text=True) != version
    new_version = changed.get_data(as_text=True)
    assert client.get(f"{url}?v={new_version}").status_code == 204
    assert changed.headers["Cache-Control"] == "no-store"

    fragment = client.get(f"/{world.slug}/slots/{world.open_slot}/live", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert text.startswith('\n<section id="roster"') or text.lstrip().startswith('<section id="roster"')
    assert "1</strong> / <span data-expected>3</span>" in text and "Paul Martin" in text
    assert "HX-Request" in fragment.headers["Vary"]
    # A forged or foreign token gets nothing. One character of the signature changed, away from its end: the
    # last character's low bits are base64 padding, so "...Jx" and "...Jw" can be the same signature.
    forged = url[:-5] + ("A" if url[-5] != "A" else "B") + url[-4:]
    assert client.get(forged + "?v=0").status_code == 404


def test_the_change_check_uses_no_orm_no_user_loader_no_translation(app, client, world):
    from blueprints.accounts.auth import login_manager
    from tenants.db import db

    login(client, world.slug, world.facilitator)
    url, version = _poll_of(client.get(f"/{world.slug}/slots/{world.open_slot}/live").get_data(as_text=True))

    def forbidden(*args, **kwargs):
        raise AssertionError("the change check must not get here")

    statements: list[str] = []
    babel = app.extensions["babel"]
    saved = (login_manager._user_callback, babel.locale_selector)
    login_manager._user_callback, babel.locale_selector = forbidden, forbidden
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, *a: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        # The browser's session cookie comes along (the client holds one): still no user is loaded.
        assert client.get(f"{url}?v={version}").status_code == 204
    finally:
        event.remove(engine, "before_cursor_execute", listener)
        login_manager._user_callback, babel.locale_selector = saved
    # With Redis, no SQL at all; without it, one indexed SELECT of the slot's version.
    if app.config.get("REDIS_URL"):
        assert statements == []
    else:
        queries = [s for s in statements if s not in ("BEGIN", "COMMIT", "ROLLBACK")]
        assert len(queries) == 1 and "slot_versions" in queries[0]


def test_marks_through_htmx_return_the_roster(app, client, world):
    login(client, world.slug, world.facilitator)
    url = f"/{world.slug}/slots/{world.open_slot}/attendance/{world.zoe}"
    response = client.post(url, data={"action": "excused", "reason": "Sick"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Excused absence" in response.get_data(as_text=True) and "Sick" in response.get_data(as_text=True)
    refused = client.post(url, data={"action": "excused"}, headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "Give the reason" in refused.get_data(as_text=True)
    late = client.post(
        f"/{world.slug}/slots/{world.open_slot}/attendance/{world.paul}",
        data={"action": "arrival", "time": "25:99"},
    )
    assert late.status_code == 303  # no fragment asked: back to the page, the error flashed
    assert {(a.participant_id, a.status) for a in attendances(app, world)} == {(world.zoe, "excused")}
    assert "attendance.excused" in audit_actions(app, world.slug)


def test_room_code_fragment_and_closing(app, client, world):
    login(client, world.slug, world.facilitator)
    page = client.get(f"/{world.slug}/slots/{world.open_slot}/live").get_data(as_text=True)
    assert 'id="room-code"' in page and "<svg" in page
    code = client.get(f"/{world.slug}/slots/{world.open_slot}/code", headers={"HX-Request": "true"})
    shown = re.search(r"data-code>([A-Z0-9]{6})<", code.get_data(as_text=True)).group(1)
    assert shown in (room_code(app, world, world.open_slot),)
    assert client.post(f"/{world.slug}/slots/{world.open_slot}/close").status_code == 303
    assert "slot.signing_closed" in audit_actions(app, world.slug)
    after = client.get(f"/{world.slug}/slots/{world.open_slot}/live").get_data(as_text=True)
    assert 'id="room-code"' not in after and "signing closed" in after


def test_facilitators_device_mode(app, client, world):
    login(client, world.slug, world.facilitator)
    slot = world.open_slot
    kiosk_sign = f"/{world.slug}/slots/{slot}/kiosk/{world.zoe}"
    # Not opened explicitly: no signature is taken.
    assert client.get(kiosk_sign).status_code == 303
    assert client.post(kiosk_sign, data={"signature": data_url(png())}).status_code == 303
    assert attendances(app, world) == []

    start = client.get(f"/{world.slug}/slots/{slot}/kiosk")
    assert "Open the facilitator" in start.get_data(as_text=True)
    assert client.post(f"/{world.slug}/slots/{slot}/kiosk").status_code == 303
    _trainee_signs(app, world, world.paul, slot)
    listing = client.get(f"/{world.slug}/slots/{slot}/kiosk").get_data(as_text=True)
    assert "Tap your name" in listing
    assert f"/kiosk/{world.zoe}" in listing and f"/kiosk/{world.paul}" not in listing  # Paul signed
    assert f"/kiosk/{world.rita}" not in listing  # restricted
    assert "data:image/png" not in listing  # never anyone's signature

    assert client.post(kiosk_sign, data={"signature": data_url(png())}).status_code == 303
    assert client.post(kiosk_sign, data={"signature": data_url(png())}).status_code == 303  # signed once only
    rows = {a.participant_id: a for a in attendances(app, world)}
    assert rows[world.zoe].method == "facilitator_device" and rows[world.zoe].recorded_by_user_id is not None
    assert len(rows) == 2
    actions = audit_actions(app, world.slug)
    assert actions.count("attendance.signed") == 2 and "slot.kiosk_opened" in actions

    client.post(f"/{world.slug}/slots/{slot}/kiosk", data={"action": "close"})
    assert client.get(f"/{world.slug}/slots/{slot}/kiosk/{world.rita}").status_code == 303


def test_sign_off_page(app, client, world):
    login(client, world.slug, world.facilitator)
    url = f"/{world.slug}/slots/{world.open_slot}/signoff"
    assert client.get(url).status_code == 200
    assert client.post(url, data={"signature": data_url(png(ink=False))}).status_code == 422
    assert client.post(url, data={"signature": data_url(png())}).status_code == 303
    live = client.get(f"/{world.slug}/slots/{world.open_slot}/live").get_data(as_text=True)
    assert "locked" in live
    # An admin who is not a facilitator of the session does not sign it for them.
    admin = app.test_client()
    login(admin, world.slug, world.admin)
    assert (
        admin.post(
            f"/{world.slug}/slots/{world.remote_slot}/signoff", data={"signature": data_url(png())}
        ).status_code
        == 403
    )


def _roster_rows(page: str) -> dict[str, str]:
    """Each roster row's participant name (its header cell) → the row's text."""
    rows = re.findall(r'<tr class="row-[^"]*" data-participant="\d+">(.*?)</tr>', page, re.S)
    found = {}
    for row in rows:
        name = re.search(r'<th scope="row">([^<]+)', row).group(1).strip()  # a tag may follow the name
        found[name] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.split("<details")[0])).strip()
    return found


def test_the_roster_names_people_as_every_page_does_and_says_what_a_blank_means(app, client, world):
    from blueprints.signing.models import PRESENT, Attendance
    from tenants import tenant_scope
    from tenants.db import db

    login(client, world.slug, world.facilitator)
    live = f"/{world.slug}/slots/{{}}/live"
    running = _roster_rows(client.get(live.format(world.open_slot)).get_data(as_text=True))
    # First name first, as on the session page and the sign-off list.
    assert set(running) == {"Paul Martin", "Rita Bernard", "Zoe Petit"}
    assert "Not signed yet" in running["Zoe Petit"]
    # Signed while the half-day runs: present, and no duration yet (it is known at the end, or at departure).
    _trainee_signs(app, world, world.paul, world.open_slot)
    running = _roster_rows(client.get(live.format(world.open_slot)).get_data(as_text=True))
    assert "Present" in running["Paul Martin"] and not re.search(r"\d+ min$", running["Paul Martin"])
    # Yesterday's half-day, ended: a blank is "not signed", a presence has its duration.
    with tenant_scope(world.slug, app):
        db.session.add(
            Attendance(
                slot_id=world.past_slot,
                participant_id=world.paul,
                status=PRESENT,
                signature_sha256="0" * 64,
                attended_minutes=175,
            )
        )
        db.session.commit()
    ended = _roster_rows(client.get(live.format(world.past_slot)).get_data(as_text=True))
    assert "Not signed" in ended["Zoe Petit"] and "Not signed yet" not in ended["Zoe Petit"]
    assert ended["Paul Martin"].endswith("175 min")
    # Signed off: the sheet says absent.
    signoff = f"/{world.slug}/slots/{world.past_slot}/signoff"
    assert "Not signed" in client.get(signoff).get_data(as_text=True)
    assert client.post(signoff, data={"signature": data_url(png())}).status_code == 303
    locked = _roster_rows(client.get(live.format(world.past_slot)).get_data(as_text=True))
    assert "Absent" in locked["Zoe Petit"] and "signed" not in locked["Zoe Petit"].lower()
