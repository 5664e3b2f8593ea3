"""Personal-data requests: a user asks from their account, an admin enters a trainee's letter from the person's
page; the deadline is a month from receipt (EU rule for months of different lengths, next working day),
extended once by two months with a reason the person is told; the answer is emailed, even to a person whose
processing is restricted; two admins at once, and bad input, get clear answers."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.breaches.test_register import add_admin
from tests.conftest import login, run_jobs
from tests.rights.conftest import text


@pytest.fixture
def acme(app, make_tenant):
    tenant = make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")
    add_admin(app, tenant, "alan@acme.fr", language="en")
    return tenant


def browser(app, email: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, "acme", email).status_code == 303
    return client


def requests_made(app, tenant) -> list:
    from blueprints.rights.models import RightsRequest
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(tenant, app):
        rows = db.session.scalars(select(RightsRequest).order_by(RightsRequest.id)).all()
        db.session.expunge_all()
        return rows


def add_participant(app, tenant, *, email: str | None, restricted: bool = False) -> int:
    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(tenant, app):
        row = Participant(
            first_name="Inès",
            last_name="Benali",
            email=email,
            language="en",
            processing_restricted=restricted,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def test_deadlines_across_months_of_different_lengths():
    from blueprints.rights.deadlines import add_months, due_on, extended_due_on

    # A month after the 31st is the last day of a shorter month; a leap year has its 29 February.
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 3, 31), 1) == date(2026, 4, 30)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    # Received on Friday 4 December 2026: answer by Monday 4 January 2027.
    assert due_on(date(2026, 12, 4)) == date(2027, 1, 4)
    # A month that ends on a Sunday (28 February 2027) moves to Monday 1 March.
    assert due_on(date(2027, 1, 28)) == date(2027, 3, 1)
    assert due_on(date(2027, 1, 31)) == date(2027, 3, 1)
    # A public holiday (Wednesday 11 November 2026) moves to the next day.
    assert due_on(date(2026, 10, 11)) == date(2026, 11, 12)
    # Extended: three months from the receipt (not two after a clamped first month), then the working day.
    assert extended_due_on(date(2027, 1, 31)) == date(2027, 4, 30)
    assert extended_due_on(date(2026, 11, 30)) == date(2027, 3, 1)


def test_a_user_asks_from_their_account_and_an_admin_answers(app, acme, smtp_server):
    fred = browser(app, "fred@acme.fr")
    assert "My personal data" in text(fred.get("/acme/account"))
    asked = fred.post("/acme/rights/mine", data={"kind": "access", "message": "Everything you hold, please."})
    assert asked.status_code == 303
    (row,) = requests_made(app, acme)
    assert (row.kind, row.channel, row.status, row.created_by) == ("access", "app", "open", None)
    from blueprints.rights.deadlines import due_on

    assert row.due_on == due_on(row.received_on)
    # Asking the same again while it is open is refused with when it will be answered.
    again = fred.post("/acme/rights/mine", data={"kind": "access"})
    assert again.status_code == 422 and "You already asked for this" in text(again)
    assert fred.get("/acme/rights/").status_code == 403  # the inbox is the admins'

    ada = browser(app, "ada@acme.fr")
    inbox = text(ada.get("/acme/rights/"))
    assert "See my data (access)" in inbox and "Fred Acme" in inbox and "days left" in inbox
    page = text(ada.get(f"/acme/rights/{row.id}"))
    assert "Everything you hold, please." in page and "received" in page
    answered = ada.post(
        f"/acme/rights/{row.id}/answer",
        data={"version": "1", "outcome": "answered", "text": "Your data is attached to this email's page."},
    )
    assert answered.status_code == 303
    run_jobs(app)
    (mail,) = smtp_server.to("fred@acme.fr")
    assert mail["Subject"] == "Your request to Acme: the answer"
    assert "Your data is attached to this email's page." in mail.get_body(("plain",)).get_content()
    mine = text(fred.get("/acme/rights/mine"))
    assert "answered" in mine and "Your data is attached to this email's page." in mine
    assert "Personal-data request answered" in text(ada.get("/acme/audit/"))
    assert "Fred Acme" not in text(ada.get("/acme/rights/"))  # answered: off the open list
    assert "Fred Acme" in text(ada.get("/acme/rights/?status=answered"))


def test_a_letter_entered_by_hand_extended_once_and_told_even_when_restricted(app, acme, smtp_server):
    ines = add_participant(app, acme, email="ines@example.fr", restricted=True)
    ada = browser(app, "ada@acme.fr")
    assert f"/acme/rights/new?participant={ines}" in text(ada.get(f"/acme/participants/{ines}"))
    received = (date.today() - timedelta(days=3)).isoformat()
    entered = ada.post(
        "/acme/rights/new",
        data={
            "participant_id": str(ines),
            "kind": "erasure",
            "channel": "letter",
            "received_on": received,
            "message": "Letter of 1 December: erase my data.",
        },
    )
    assert entered.status_code == 303, text(entered)
    (row,) = requests_made(app, acme)
    assert (row.channel, row.received_on.isoformat(), row.created_by) == ("letter", received, 1)

    extended = ada.post(
        f"/acme/rights/{row.id}/extend", data={"version": "1", "reason": "Her sessions are still running."}
    )
    assert extended.status_code == 303
    (row,) = requests_made(app, acme)
    assert row.extended_due_on > row.due_on and row.extension_reason == "Her sessions are still running."
    run_jobs(app)
    # Her processing is restricted: the organization's messages stop, not the answer to her own request.
    (mail,) = smtp_server.to("ines@example.fr")
    body = mail.get_body(("plain",)).get_content()
    assert "more time is needed" in mail["Subject"] and "Her sessions are still running." in body
    twice = ada.post(f"/acme/rights/{row.id}/extend", data={"version": str(row.version), "reason": "More."})
    assert twice.status_code == 422 and "already extended once" in text(twice)


def test_two_admins_at_once_and_bad_input(app, acme):
    from tenants import tenant_scope
    from tenants.db import db

    fred = browser(app, "fred@acme.fr")
    fred.post("/acme/rights/mine", data={"kind": "objection", "message": "No more reminders."})
    (row,) = requests_made(app, acme)
    ada, alan = browser(app, "ada@acme.fr"), browser(app, "alan@acme.fr")
    version = re.search(r'name="version"[^>]* value="(\d+)"', text(alan.get(f"/acme/rights/{row.id}")))
    assert version and version.group(1) == "1"
    ada.post(f"/acme/rights/{row.id}/answer", data={"version": "1", "outcome": "answered", "text": "Done."})
    late = alan.post(
        f"/acme/rights/{row.id}/answer", data={"version": "1", "outcome": "refused", "text": "No."}
    )
    assert late.status_code == 409 and "Another admin changed this request meanwhile" in text(late)
    (row,) = requests_made(app, acme)
    assert (row.status, row.answer) == ("answered", "Done.")

    # Nobody with that number; no answer text; a receipt in the future; a correction without what to correct.
    assert ada.get("/acme/rights/new?participant=999").status_code == 404
    assert "from the person's page" in text(ada.get("/acme/rights/new"))
    ines = add_participant(app, acme, email=None)
    base = {"participant_id": str(ines), "kind": "access", "channel": "phone", "message": "Called on Monday."}
    future = ada.post(
        "/acme/rights/new", data={**base, "received_on": (date.today() + timedelta(days=2)).isoformat()}
    )
    assert future.status_code == 422 and "cannot be received in the future" in text(future)
    vague = ada.post(
        "/acme/rights/new",
        data={**base, "kind": "rectification", "message": "", "received_on": date.today().isoformat()},
    )
    assert vague.status_code == 422 and "Say what is wrong" in text(vague)
    assert len(requests_made(app, acme)) == 1
    made = ada.post("/acme/rights/new", data={**base, "received_on": date.today().isoformat()})
    assert made.status_code == 303
    new_id = requests_made(app, acme)[-1].id
    page = text(ada.get(f"/acme/rights/{new_id}"))
    assert "No email on file" in page  # she called: she is told by phone
    blank = ada.post(
        f"/acme/rights/{new_id}/answer", data={"version": "1", "outcome": "answered", "text": " "}
    )
    assert blank.status_code == 422 and "Write the answer the person receives" in text(blank)

    # An extension after the first month is refused: it had to be told within it.
    with tenant_scope(acme, app):
        from blueprints.rights.models import RightsRequest

        old = db.session.get(RightsRequest, new_id)
        old.received_on = date.today() - timedelta(days=40)
        old.due_on = date.today() - timedelta(days=9)
        db.session.commit()
    past = ada.post(f"/acme/rights/{new_id}/extend", data={"version": "2", "reason": "Too complex."})
    assert past.status_code == 422 and "The first month is over" in text(past)
    assert "days late" in text(ada.get("/acme/rights/"))


def test_a_user_sees_and_downloads_their_own_data_and_nobody_elses(app, acme):
    import io
    import json
    import zipfile

    fred = browser(app, "fred@acme.fr")
    fred.post("/acme/rights/mine", data={"kind": "access", "message": "All of it."})
    page = text(fred.get("/acme/rights/mine"))
    assert "What the organization holds about me" in page and "fred@acme.fr" in page
    assert fred.post("/acme/rights/mine/export").status_code == 303
    run_jobs(app)
    page = text(fred.get("/acme/rights/mine"))
    task_id = int(re.search(r'id="task-(\d+)"', page).group(1))
    got = fred.get(f"/acme/tasks/{task_id}/download")
    assert got.status_code == 200 and got.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(files["data.json"])
    assert data["account"]["email"] == "fred@acme.fr"
    assert any(a["action"] == "user.login" for a in data["actions"])
    assert [r["message"] for r in data["requests"]] == ["All of it."]
    for content in files.values():
        assert b"ada@acme.fr" not in content and b"alan@acme.fr" not in content
