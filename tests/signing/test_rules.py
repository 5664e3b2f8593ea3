"""The rules, at the service level with a chosen clock: slot windows, lateness, early departure, room codes,
facilitator's marks, sign-off lock and the admin's change after it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.signing.conftest import png


@pytest.fixture
def scope(app, world):
    """Run the test body inside acme's scope, with its objects at hand."""
    from blueprints.accounts.models import User
    from blueprints.audit.services import Actor
    from blueprints.participants.models import Participant
    from blueprints.trainings.models import Slot
    from tenants import tenant_scope
    from tenants.db import db

    class Scope:
        pass

    with app.test_request_context(headers={"Accept-Language": "en"}), tenant_scope(world.slug, app):
        s = Scope()
        s.db = db
        s.slot = db.session.get(Slot, world.open_slot)
        s.remote = db.session.get(Slot, world.remote_slot)
        s.paul = db.session.get(Participant, world.paul)
        s.zoe = db.session.get(Participant, world.zoe)
        s.fred = db.session.scalars(select(User).where(User.email == world.facilitator)).one()
        s.ada = db.session.scalars(select(User).where(User.email == world.admin)).one()
        s.trainee = lambda p: Actor(kind="trainee", label=p.full_name, participant_id=p.id, ip="10.0.0.1")
        s.staff = lambda u: Actor.for_user(u, ip="10.0.0.2")
        yield s


def _sign(s, participant, slot, now, *, code=True, method="own_link"):
    from blueprints.signing import services

    entered = services.room_code(slot, now) if code is True else code
    return services.sign(
        slot, participant, png(), s.trainee(participant), method=method, code=entered, now=now
    )


def test_window_edges(scope):
    from blueprints.signing import services

    s, slot = scope, scope.slot
    opens = slot.starts_at - timedelta(minutes=15)
    closes = slot.ends_at + timedelta(minutes=30)
    state = services.state_of(slot)
    assert services.window(slot, state, opens - timedelta(seconds=1)).status == "not_yet"
    assert services.window(slot, state, opens).status == "open"
    assert services.window(slot, state, closes - timedelta(seconds=1)).status == "open"
    assert services.window(slot, state, closes).status == "closed"

    with pytest.raises(services.SigningError) as early:
        _sign(s, s.paul, slot, opens - timedelta(seconds=1))
    assert early.value.status == 409 and "opens at" in str(early.value)
    with pytest.raises(services.SigningError) as late:
        _sign(s, s.paul, slot, closes)
    assert late.value.status == 409
    assert _sign(s, s.paul, slot, opens).created
    assert _sign(s, s.zoe, slot, closes - timedelta(seconds=1)).created


def test_window_is_configurable_and_closing_ends_it(app, scope, monkeypatch):
    from blueprints.signing import services, signoffs

    slot = scope.slot
    monkeypatch.setitem(app.config, "SIGNING_OPENS_BEFORE_MINUTES", 5)
    monkeypatch.setitem(app.config, "SIGNING_GRACE_MINUTES", 0)
    state = services.state_of(slot)
    assert services.window(slot, state, slot.starts_at - timedelta(minutes=6)).status == "not_yet"
    assert services.window(slot, state, slot.starts_at - timedelta(minutes=5)).status == "open"
    assert services.window(slot, state, slot.ends_at).status == "closed"
    signoffs.close_slot(slot, scope.staff(scope.fred), now=slot.starts_at + timedelta(minutes=20))
    assert services.window(slot, state, slot.starts_at + timedelta(minutes=20)).status == "closed"
    assert services.window(slot, state, slot.starts_at + timedelta(minutes=19)).status == "open"


def test_late_within_and_beyond_tolerance(scope):
    s, slot = scope, scope.slot
    on_time = _sign(s, s.paul, slot, slot.starts_at + timedelta(minutes=10, seconds=59)).attendance
    assert (on_time.status, on_time.late_minutes, on_time.attended_minutes) == ("present", 0, 180)
    late = _sign(s, s.zoe, slot, slot.starts_at + timedelta(minutes=11)).attendance
    assert (late.status, late.late_minutes, late.attended_minutes) == ("late", 11, 169)


def test_early_departure_and_late_arrival_recorded_by_the_facilitator(scope):
    from blueprints.signing import services

    s, slot = scope, scope.slot
    signed = _sign(s, s.paul, slot, slot.starts_at + timedelta(minutes=25)).attendance
    assert (signed.status, signed.late_minutes) == ("late", 25)
    left = services.mark(
        slot, s.paul, "departure", s.staff(s.fred), s.fred, at=slot.ends_at - timedelta(minutes=45)
    )
    assert (left.early_minutes, left.attended_minutes) == (45, 180 - 25 - 45)
    # The facilitator saw Zoe come in at +40 min; she signs later: her arrival is what counts.
    services.mark(slot, s.zoe, "arrival", s.staff(s.fred), s.fred, at=slot.starts_at + timedelta(minutes=40))
    zoe = _sign(s, s.zoe, slot, slot.starts_at + timedelta(minutes=55)).attendance
    assert (zoe.status, zoe.late_minutes, zoe.attended_minutes, zoe.method) == ("late", 40, 140, "room_code")
    # A time outside the slot is refused.
    with pytest.raises(services.SigningError):
        services.mark(
            slot, s.zoe, "departure", s.staff(s.fred), s.fred, at=slot.ends_at + timedelta(minutes=1)
        )


def test_absent_excused_and_paper(scope):
    from blueprints.signing import services

    s, slot = scope, scope.slot
    with pytest.raises(services.SigningError) as no_reason:
        services.mark(slot, s.zoe, "excused", s.staff(s.fred), s.fred)
    assert no_reason.value.status == 422
    excused = services.mark(slot, s.zoe, "excused", s.staff(s.fred), s.fred, reason="Medical appointment")
    assert (excused.status, excused.reason, excused.attended_minutes) == ("excused", "Medical appointment", 0)
    # An excused trainee who turns up after all signs: the signature replaces the mark, one row still.
    signed = _sign(s, s.zoe, slot, slot.starts_at + timedelta(minutes=5))
    assert signed.created and signed.attendance.id == excused.id and signed.attendance.status == "present"
    with pytest.raises(services.SigningError) as signed_then_absent:
        services.mark(slot, s.zoe, "absent", s.staff(s.fred), s.fred)
    assert signed_then_absent.value.status == 409
    paper = services.mark(slot, s.paul, "paper", s.staff(s.fred), s.fred, now=slot.starts_at)
    assert (paper.status, paper.method, paper.attended_minutes) == ("present", "paper", 180)


def test_room_code_current_and_previous_accepted_older_refused(scope):
    from blueprints.signing import roomcodes, services

    s, slot = scope, scope.slot
    shown_at = slot.starts_at + timedelta(seconds=3)  # early in a 30-s step
    code = services.room_code(slot, shown_at)
    secret = services.state_of(slot).room_secret
    assert roomcodes.is_valid(secret, slot.id, code, shown_at)
    assert roomcodes.is_valid(
        secret, slot.id, code.lower(), shown_at + timedelta(seconds=30)
    )  # previous step
    assert not roomcodes.is_valid(secret, slot.id, code, shown_at + timedelta(seconds=60))  # two steps on
    assert not roomcodes.is_valid(secret, slot.id + 1, code, shown_at)  # another slot's
    # Through signing: Paul types the code 30 s later, fine; Zoe, from a photo a minute later, is refused.
    assert _sign(s, s.paul, slot, shown_at + timedelta(seconds=30), code=code).created
    with pytest.raises(services.SigningError) as stale:
        _sign(s, s.zoe, slot, shown_at + timedelta(seconds=60), code=code)
    assert stale.value.status == 422
    with pytest.raises(services.SigningError):
        _sign(s, s.zoe, slot, shown_at, code=None)
    # The facilitator's device needs no code: it is in the room.
    kiosk = services.sign(slot, s.zoe, png(), s.staff(s.fred), method="facilitator_device", now=shown_at)
    assert (
        kiosk.attendance.method == "facilitator_device" and kiosk.attendance.recorded_by_user_id == s.fred.id
    )


def test_sign_off_locks_and_only_an_admin_changes_with_a_reason(scope):
    from blueprints.audit.models import AuditEvent
    from blueprints.signing import services, signoffs

    s, slot = scope, scope.slot
    _sign(s, s.paul, slot, slot.starts_at + timedelta(minutes=1))
    with pytest.raises(services.SigningError):
        signoffs.sign_off(
            slot, png(ink=False), s.fred, s.staff(s.fred), now=slot.starts_at + timedelta(hours=3)
        )
    state = signoffs.sign_off(slot, png(), s.fred, s.staff(s.fred), now=slot.starts_at + timedelta(hours=3))
    assert state.locked and state.signed_off_by_name == s.fred.full_name and len(state.signature_sha256) == 64
    zoe = services.attendance_of(slot, s.zoe.id)
    assert zoe.status == "absent"  # did not sign: recorded absent at the sign-off
    with pytest.raises(services.SigningError) as again:
        signoffs.sign_off(slot, png(), s.fred, s.staff(s.fred), now=slot.ends_at)
    assert again.value.status == 409
    with pytest.raises(services.SigningError) as locked:
        _sign(s, s.zoe, slot, slot.starts_at + timedelta(minutes=30))
    assert locked.value.status == 409
    with pytest.raises(services.SigningError) as facilitator:
        services.mark(slot, s.zoe, "excused", s.staff(s.fred), s.fred, reason="late news")
    assert facilitator.value.status == 403
    with pytest.raises(services.SigningError) as no_reason:
        services.mark(slot, s.zoe, "absent", s.staff(s.ada), s.ada)
    assert no_reason.value.status == 422
    changed = services.mark(slot, s.zoe, "excused", s.staff(s.ada), s.ada, reason="Certificate received")
    assert changed.status == "excused"
    s.db.session.flush()
    event = s.db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "attendance.changed_after_sign_off")
    ).one()
    assert event.details["reason"] == "Certificate received" and event.actor_user_id == s.ada.id


def test_signed_slots_are_known_for_date_changes(scope):
    from blueprints.signing import signoffs

    s = scope
    assert signoffs.signed_slot_ids([s.slot.id, s.remote.id]) == set()
    _sign(s, s.paul, s.slot, s.slot.starts_at)
    assert signoffs.signed_slot_ids([s.slot.id, s.remote.id]) == {s.slot.id}
