"""Support requests: a user writes from any page (a subject, a text, maybe a screenshot), staff answer from the
inbox, the reply is emailed and shown under the user's account; taking a request gives its handler, and no one
else, 7 days of read access; bad input is refused with its message and nothing is made."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import login, run_jobs
from tests.support.test_sessions import set_access, start, text


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


@pytest.fixture
def acme(app, make_tenant):
    return make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")


def browser(app, email: str, slug: str = "acme"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, slug, email).status_code == 303
    return client


@pytest.fixture
def fred(app, acme):
    return browser(app, "fred@acme.fr")


def staff(app, email: str = "sue@emarge.fr"):
    from tests.privacy.conftest import sign_in_staff

    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in_staff(app, client, email=email, role="support")
    return client


def png(side: int = 40) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (side, side), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def send(
    client, *, subject="The roster will not print", body="I press Print and nothing happens.", shot=None
):
    data = {"subject": subject, "body": body, "page": "/acme/trainings/"}
    if shot is not None:
        data["screenshot"] = (io.BytesIO(shot), "screen.png")
    return client.post("/acme/support/requests/new", data=data, content_type="multipart/form-data")


def requests_made(app) -> list:
    from blueprints.support.models import SupportRequest
    from tenants.db import db

    with app.app_context():
        rows = db.session.scalars(select(SupportRequest).order_by(SupportRequest.id)).all()
        db.session.expunge_all()
        return rows


def message_count(app) -> int:
    from blueprints.support.models import SupportRequestMessage
    from tenants.db import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SupportRequestMessage))


def test_a_user_writes_support_answers_and_the_reply_is_emailed_and_shown(app, fred, smtp_server):
    form = fred.get("/acme/support/requests/new?page=/acme/trainings/")
    assert form.status_code == 200 and 'value="/acme/trainings/"' in text(form)
    sent = send(fred, shot=png())
    assert sent.status_code == 303
    (row,) = requests_made(app)
    assert sent.headers["Location"].endswith(f"/acme/support/requests/{row.id}")
    assert (row.state, row.subject, row.user_email) == ("new", "The roster will not print", "fred@acme.fr")
    page = fred.get(f"/acme/support/requests/{row.id}")
    assert "I press Print and nothing happens." in text(page) and "Sent from /acme/trainings/" in text(page)
    shot = re.search(r'href="(/acme/support/requests/\d+/screenshots/\d+)"', text(page)).group(1)
    image = fred.get(shot)
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == png()

    # Staff: the inbox counts it as new; the thread shows it with its organization and screenshot.
    sue = staff(app)
    inbox = text(sue.get("/staff/requests?state=new"))
    assert "The roster will not print" in inbox and "Acme" in inbox
    thread = sue.get(f"/staff/requests/{row.id}")
    assert "I press Print and nothing happens." in text(thread)
    staff_shot = re.search(r'href="(/staff/requests/\d+/screenshots/\d+)"', text(thread)).group(1)
    assert sue.get(staff_shot).data == png()

    # The reply: waiting for the user, emailed in their language, shown under their account.
    replied = sue.post(f"/staff/requests/{row.id}", data={"body": "Try the PDF button: it works offline."})
    assert replied.status_code == 303
    assert requests_made(app)[0].state == "waiting"
    assert requests_made(app)[0].assigned_staff_id is not None
    run_jobs(app)
    (mail,) = smtp_server.to("fred@acme.fr")
    assert "The roster will not print" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "Try the PDF button: it works offline." in body
    assert f"/acme/support/requests/{row.id}" in body
    assert "support_reply" in text(sue.get("/staff/mail")) or "fred@acme.fr" in text(sue.get("/staff/mail"))
    mine = text(fred.get("/acme/support/requests"))
    assert "The roster will not print" in mine and "Support answered" in mine
    assert "Try the PDF button" in text(fred.get(f"/acme/support/requests/{row.id}"))
    assert "The roster will not print" in text(fred.get("/acme/account"))

    # Closed; a closed request takes no reply; the user writing again opens it again.
    assert sue.post(f"/staff/requests/{row.id}/close").status_code == 303
    assert requests_made(app)[0].state == "closed"
    refused = sue.post(f"/staff/requests/{row.id}", data={"body": "One more thing"})
    assert refused.status_code == 422 and "This request is closed" in text(refused)
    again = fred.post(
        f"/acme/support/requests/{row.id}",
        data={"body": "It works, thank you. One question more."},
        content_type="multipart/form-data",
    )
    assert again.status_code == 303
    assert requests_made(app)[0].state == "new" and message_count(app) == 3


@pytest.mark.parametrize(
    ("change", "field_message"),
    [
        ({"subject": ""}, "Give the request a subject."),
        ({"body": "   "}, "Write what you need: support reads it first."),
        ({"body": "x" * 5001}, "5,000 characters at most."),
        ({"shot": b"GIF89a" + b"\0" * 64}, "The screenshot must be a PNG or JPEG image."),
        ({"shot": png()[:60]}, "The screenshot could not be read"),
        ({"shot": b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024)}, "The screenshot is larger than 5 MB"),
    ],
    ids=["no subject", "no text", "text too long", "not an image", "broken png", "over 5 MB"],
)
def test_bad_input_is_refused_on_the_form_and_nothing_is_made(app, fred, change, field_message):
    refused = send(fred, **change)
    assert refused.status_code == 422
    assert field_message in text(refused)
    # What the user wrote is still on the form.
    if "subject" not in change:
        assert "The roster will not print" in text(refused)
    assert requests_made(app) == [] and message_count(app) == 0


def test_an_empty_message_or_reply_is_refused(app, fred):
    send(fred)
    (row,) = requests_made(app)
    empty = fred.post(
        f"/acme/support/requests/{row.id}", data={"body": ""}, content_type="multipart/form-data"
    )
    assert empty.status_code == 422 and "Write what you need" in text(empty)
    sue = staff(app)
    assert sue.post(f"/staff/requests/{row.id}", data={"body": " "}).status_code == 422
    assert message_count(app) == 1 and requests_made(app)[0].state == "new"


def test_taking_a_request_gives_its_handler_alone_read_access_for_7_days(app, fred):
    from blueprints.support.models import SupportGrant
    from tenants import tenant_scope
    from tenants.db import db

    send(fred)
    (row,) = requests_made(app)
    sue, sid = staff(app), staff(app, "sid@emarge.fr")
    # On request (the default) with no grant: no one may start a session.
    assert start(app, sue).status_code == 422
    assert sue.post(f"/staff/requests/{row.id}/take").status_code == 303
    taken = requests_made(app)[0]
    assert taken.assigned_staff_id is not None and taken.grant_id is not None
    with app.app_context(), tenant_scope("acme"):
        grant = db.session.get(SupportGrant, taken.grant_id)
        assert (grant.scope, grant.staff_id, grant.support_request_id) == (
            "read",
            taken.assigned_staff_id,
            row.id,
        )
        assert round((grant.ends_at - grant.starts_at).total_seconds() / 86400) == 7
    # The handler starts a session; another staff member is refused; neither may write on that grant.
    refused = start(app, sid)
    assert refused.status_code == 422 and "does not allow support access now" in text(refused)
    assert start(app, sue, mode="write", write_reason="fix it").status_code == 422
    assert start(app, sue).status_code == 303
    # The organization's admins see the grant, with the request it came from, and may revoke it.
    ada = browser(app, "ada@acme.fr")
    settings = text(ada.get("/acme/settings/support"))
    assert f"Support request #{row.id}" in settings
    assert ada.post(f"/acme/settings/support/grants/{taken.grant_id}/revoke").status_code == 303
    assert sue.get("/acme/").status_code == 410


def test_with_support_access_off_taking_a_request_gives_no_access(app, fred):
    send(fred)
    set_access(app, "off")
    (row,) = requests_made(app)
    sue = staff(app)
    taken = sue.post(f"/staff/requests/{row.id}/take", follow_redirects=True)
    assert "does not allow support access" in text(taken)
    assert requests_made(app)[0].grant_id is None
    assert start(app, sue).status_code == 422


def test_a_request_is_only_its_authors(app, fred, make_tenant):
    send(fred, shot=png())
    (row,) = requests_made(app)
    ada = browser(app, "ada@acme.fr")
    for path in (f"/acme/support/requests/{row.id}", f"/acme/support/requests/{row.id}/screenshots/1"):
        assert ada.get(path).status_code == 404
    assert "The roster will not print" not in text(ada.get("/acme/support/requests"))
    make_tenant("globex", admin="gus@globex.fr", language="en")
    gus = browser(app, "gus@globex.fr", "globex")
    assert gus.get(f"/globex/support/requests/{row.id}").status_code == 404
    # Not a staff page for users, not a user page for staff.
    assert fred.get(f"/staff/requests/{row.id}").status_code in (302, 403, 404)
    assert staff(app).get(f"/acme/support/requests/{row.id}").status_code in (302, 401, 404)


def test_staff_requests_are_refused_without_csrf(app, fred):
    send(fred)
    (row,) = requests_made(app)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        sue = staff(app)
        assert sue.post(f"/staff/requests/{row.id}/take").status_code == 400
        assert sue.post(f"/staff/requests/{row.id}/close").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert requests_made(app)[0].state == "new" and requests_made(app)[0].assigned_staff_id is None
