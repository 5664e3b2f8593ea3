"""The header's search finds participants, trainings, sessions (users for admins) through the need-to-know
queries: a facilitator finds only the people and sessions of the sessions they run."""

from __future__ import annotations

from tests.conftest import login
from tests.signing.conftest import build_world


def _other_session(app, world):
    """Olga's own session, with a participant Fred must never find."""
    from blueprints.accounts.models import User
    from blueprints.participants.models import Enrollment, Participant
    from blueprints.trainings.models import Training, TrainingSession
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        olga = db.session.query(User).filter_by(email=world.other_facilitator).one()
        session = TrainingSession(
            training=Training(title="Safety for managers", reference="SAF-M", planned_hours=7),
            start_date=db.session.get(TrainingSession, world.session_id).start_date,
            end_date=db.session.get(TrainingSession, world.session_id).end_date,
            location_name="Room 9",
        )
        session.facilitators = [olga]
        secret = Participant(first_name="Paula", last_name="Secret", email="paula@other.fr", language="en")
        db.session.add_all([session, secret])
        db.session.flush()
        db.session.add(Enrollment(session_id=session.id, participant_id=secret.id))
        db.session.commit()
        return session.id, secret.id


def _search(client, text, live=True):
    response = client.get(
        "/acme/search",
        query_string={"q": text, **({"live": "1"} if live else {})},
        headers={"HX-Request": "true"} if live else {},
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_facilitator_finds_only_what_they_may_see(app, make_tenant):
    world = build_world(app, make_tenant)
    other_session, secret = _other_session(app, world)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "acme", world.facilitator)
    found = _search(client, "pau")
    assert f"/acme/participants/{world.paul}" in found and "Paul Martin" in found
    assert "Paula" not in found and f"/acme/participants/{secret}" not in found
    found = _search(client, "safety")
    assert f"/acme/sessions/{world.session_id}" in found
    assert f"/acme/sessions/{other_session}" not in found and "Safety for managers" not in found
    # Users are for admins only.
    assert "/acme/users/" not in _search(client, "olga")
    # The whole page, without JavaScript, says the same.
    page = _search(client, "pau", live=False)
    assert "<html" in page and "Paul Martin" in page and "Paula" not in page


def test_an_admin_finds_everything_users_included(app, make_tenant):
    world = build_world(app, make_tenant)
    other_session, secret = _other_session(app, world)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "acme", world.admin)
    found = _search(client, "pau")
    assert "Paul Martin" in found and "Paula Secret" in found
    found = _search(client, "saf-m")
    assert f"/acme/sessions/{other_session}" in found and "Safety for managers" in found
    found = _search(client, "olga")
    assert "/acme/users/" in found and "olga@acme.fr" in found
    # Every word must match; a wildcard typed by the user is a character, not a pattern.
    assert "Paul" not in _search(client, "%%") and "Nothing found" in _search(client, "%%")
    assert "Paul Martin" not in _search(client, "paul nobody")


def test_the_search_needs_a_login_and_a_short_text_answers_nothing(app, make_tenant):
    world = build_world(app, make_tenant)
    client = app.test_client()
    assert client.get("/acme/search?q=paul").status_code in (302, 303)
    login(client, "acme", world.admin)
    assert "Paul" not in _search(client, "p")
