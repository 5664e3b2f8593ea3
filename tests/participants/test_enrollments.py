"""Rosters: add one or many from the directory, change the funder, remove after confirming; audit; need-to-know."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.participants.conftest import (
    FAY,
    FRED,
    SLUG,
    actions,
    add_participant,
    audit,
    enroll,
    enrollments,
    make_session,
    text,
)

HX = {"HX-Request": "true"}


def url(session_id, rest=""):
    return f"/{SLUG}/sessions/{session_id}{rest}"


def test_roster_fragment_alone_and_in_a_page(app, admin):
    sid = make_session(app)
    pid = add_participant(app, first_name="Alice", email="alice@example.fr")
    enroll(app, sid, pid, funder="cpf")
    page = admin.get(url(sid, "/roster"))
    assert page.status_code == 200 and "<html" in text(page)
    fragment = admin.get(url(sid, "/roster"), headers=HX)
    body = text(fragment)
    assert "<html" not in body and f'id="roster-{sid}"' in body
    assert "Alice" in body and "CPF (personal training account)" in body
    assert "HX-Request" in fragment.vary


def test_add_one_and_many_from_the_directory(app, admin):
    sid = make_session(app)
    alice = add_participant(app, first_name="Alice", email="alice@example.fr")
    bruno = add_participant(app, first_name="Bruno", email="bruno@example.fr")
    chloe = add_participant(app, first_name="Chloé", email="chloe@example.fr")
    found = text(admin.get(url(sid, "/enrollments/new?q=ali"), headers=HX))
    assert f'value="{alice}"' in found and f'value="{bruno}"' not in found
    one = admin.post(
        url(sid, "/enrollments"),
        data={"participant_id": alice, "funder": "opco", "funder_reference": "OPCO-123"},
        headers=HX,
    )
    assert one.status_code == 200 and "Alice" in text(one) and "OPCO-123" in text(one)
    assert enrollments(app) == [(sid, alice, "opco", "OPCO-123")]
    # Already enrolled people are no longer candidates.
    assert f'value="{alice}"' not in text(admin.get(url(sid, "/enrollments/new"), headers=HX))
    many = admin.post(
        url(sid, "/enrollments"), data={"participant_id": [alice, bruno, chloe], "funder": "employer"}
    )
    assert many.status_code == 303
    assert sorted(enrollments(app)) == sorted(
        [(sid, alice, "opco", "OPCO-123"), (sid, bruno, "employer", None), (sid, chloe, "employer", None)]
    )
    created = [e for e in audit(app) if e[0] == "enrollment.created"]
    assert [(d["participant_id"], d["funder"]) for *_, d in created] == [
        (alice, "opco"),
        (bruno, "employer"),
        (chloe, "employer"),
    ]


def test_add_refuses_nothing_ticked_unknown_funder_and_archived(app, admin):
    sid = make_session(app)
    pid = add_participant(app, email="a@example.fr")
    assert admin.post(url(sid, "/enrollments"), data={"funder": "opco"}, headers=HX).status_code == 422
    assert (
        admin.post(url(sid, "/enrollments"), data={"participant_id": pid, "funder": "bank"}).status_code
        == 422
    )
    admin.post(f"/{SLUG}/participants/{pid}/archive")
    refused = admin.post(url(sid, "/enrollments"), data={"participant_id": pid, "funder": "opco"}, headers=HX)
    assert refused.status_code == 422 and "archived" in text(refused)
    assert enrollments(app) == []


def test_change_the_funder_inline(app, admin):
    sid = make_session(app)
    pid = add_participant(app, first_name="Alice", email="alice@example.fr")
    eid = enroll(app, sid, pid, funder="opco")
    form = admin.get(url(sid, f"/enrollments/{eid}/edit"), headers=HX)
    assert form.status_code == 200 and text(form).lstrip().startswith(f'<tr id="enrollment-{eid}"')
    saved = admin.post(
        url(sid, f"/enrollments/{eid}"), data={"funder": "region", "funder_reference": "R-9"}, headers=HX
    )
    assert saved.status_code == 200 and "Region or public body" in text(saved) and "R-9" in text(saved)
    assert enrollments(app) == [(sid, pid, "region", "R-9")]
    action, object_type, object_id, details = audit(app)[-1]
    assert (action, object_type, object_id) == ("enrollment.updated", "enrollments", eid)
    assert details == {
        "before": {"funder": "opco", "funder_reference": None},
        "after": {"funder": "region", "funder_reference": "R-9"},
    }
    assert admin.post(url(sid, f"/enrollments/{eid}"), data={"funder": "nope"}, headers=HX).status_code == 422
    row = admin.get(url(sid, f"/enrollments/{eid}"), headers=HX)
    assert row.status_code == 200 and 'class="editing"' not in text(row) and "R-9" in text(row)


def test_remove_shows_the_consequences_then_removes(app, admin):
    sid = make_session(app)
    pid = add_participant(app, first_name="Alice", last_name="Martin", email="alice@example.fr")
    eid = enroll(app, sid, pid)
    confirm = admin.get(url(sid, f"/enrollments/{eid}/remove"))
    assert confirm.status_code == 200
    assert "Remove Alice Martin from this session?" in text(confirm)
    assert "Alice Martin has not signed anything in this session." in text(confirm)
    assert enrollments(app) != []
    assert admin.post(url(sid, f"/enrollments/{eid}/remove")).status_code == 303
    assert enrollments(app) == []
    action, _type, object_id, details = audit(app)[-1]
    assert (action, object_id) == ("enrollment.removed", eid)
    assert details["participant_id"] == pid and details["session_id"] == sid and details["signed_slots"] == 0
    # The participant stays in the directory.
    assert admin.get(f"/{SLUG}/participants/{pid}").status_code == 200


def test_removal_consequences_is_the_one_place_to_extend(app, org):
    from blueprints.participants.models import Enrollment
    from blueprints.participants.services import removal_consequences
    from tenants import tenant_scope
    from tenants.db import db

    sid = make_session(app)
    eid = enroll(app, sid, add_participant(app, email="a@example.fr"))
    with tenant_scope(SLUG, app):
        consequences = removal_consequences(db.session.get(Enrollment, eid))
    assert consequences.signed_slots == 0 and not consequences.blocking


def test_an_enrollment_of_another_session_is_404(app, admin):
    first, second = make_session(app), make_session(app)
    eid = enroll(app, first, add_participant(app, email="a@example.fr"))
    for method, rest in (
        ("get", f"/enrollments/{eid}"),
        ("get", f"/enrollments/{eid}/edit"),
        ("post", f"/enrollments/{eid}"),
        ("get", f"/enrollments/{eid}/remove"),
        ("post", f"/enrollments/{eid}/remove"),
    ):
        assert getattr(admin, method)(url(second, rest)).status_code == 404, rest
    assert admin.get(url(999, "/roster")).status_code == 404
    assert len(enrollments(app)) == 1


def test_facilitators_read_their_rosters_only(app, client, org):
    mine = make_session(app, facilitators=(FRED,))
    theirs = make_session(app, facilitators=(FAY,))
    pid = add_participant(app, first_name="Alice", email="alice@example.fr")
    eid = enroll(app, mine, pid)
    other = enroll(app, theirs, pid)
    login(client, SLUG, FRED)
    roster = text(client.get(url(mine, "/roster"), headers=HX))
    assert "Alice" in roster and "Remove" not in roster and "Add participants" not in roster
    assert client.get(url(theirs, "/roster")).status_code == 404
    assert client.get(url(theirs, f"/enrollments/{other}")).status_code == 404
    assert (
        client.post(url(mine, "/enrollments"), data={"participant_id": pid, "funder": "opco"}).status_code
        == 403
    )
    assert client.post(url(mine, f"/enrollments/{eid}"), data={"funder": "cpf"}).status_code == 403
    assert client.post(url(mine, f"/enrollments/{eid}/remove")).status_code == 403
    assert len(enrollments(app)) == 2
    # Reading is allowed: the list of their own session, as CSV.
    exported = client.post(url(mine, "/roster/export"))
    assert exported.status_code == 200 and "Alice" in exported.get_data().decode("utf-8-sig")
    assert client.post(url(theirs, "/roster/export")).status_code == 404


def test_roster_export_neutralises_formulas(app, admin):
    import csv
    import io

    sid = make_session(app)
    pid = add_participant(app, first_name='=HYPERLINK("http://x")', email="a@example.fr")
    eid = enroll(app, sid, pid, funder="opco")
    admin.post(url(sid, f"/enrollments/{eid}"), data={"funder": "opco", "funder_reference": "=1+1"})
    response = admin.post(url(sid, "/roster/export"))
    assert response.status_code == 200 and response.get_data().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    assert rows[1][-2:] == ["OPCO (skills operator)", "'=1+1"]
    assert actions(app)[-1] == "session.roster_exported"


def test_the_session_page_includes_the_roster(app, admin):
    if "trainings.session" not in app.view_functions:
        pytest.skip("the session page is not there yet")
    sid = make_session(app)
    enroll(app, sid, add_participant(app, first_name="Alice", email="alice@example.fr"), funder="cpf")
    page = text(admin.get(f"/{SLUG}/sessions/{sid}"))
    assert f'id="roster-{sid}"' in page and "Alice" in page and "Add participants" in page
    # After a change without htmx, the browser goes back to that page.
    bruno = add_participant(app, first_name="Bruno", email="bruno@example.fr")
    response = admin.post(url(sid, "/enrollments"), data={"participant_id": bruno, "funder": "opco"})
    assert response.status_code == 303 and response.location.endswith(f"/{SLUG}/sessions/{sid}")
