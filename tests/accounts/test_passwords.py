"""Password reset by emailed link, and password change: both end the user's other sessions."""

from __future__ import annotations

from tests.accounts.helpers import audit_actions, expire_tokens, last_mail, path_of, text
from tests.conftest import PASSWORD, login

NEW = "quartz-lantern-meadow-77"


def ask_reset(client, jobs, box, email: str = "ada@acme.fr"):
    response = client.post("/acme/password/forgot", data={"email": email})
    assert response.status_code == 200
    assert email in text(response)
    jobs()
    return path_of(box.link(last_mail(box, email)))


def test_reset_by_link_once_and_other_sessions_end(app, client, new_client, make_tenant, smtp_server, jobs):
    make_tenant("acme", admin="ada@acme.fr", language="en")
    elsewhere = new_client()
    assert login(elsewhere, "acme", "ada@acme.fr", remember=True).status_code == 303
    assert elsewhere.get("/acme/").status_code == 200

    older = ask_reset(client, jobs, smtp_server)
    link = ask_reset(client, jobs, smtp_server)
    assert "/acme/password/reset/" in link and link != older
    mail = last_mail(smtp_server, "ada@acme.fr")
    assert "Reset your password" in mail["Subject"]

    assert client.get(link).status_code == 200
    weak = client.post(link, data={"password": "short"})
    assert weak.status_code == 422
    assert "Use at least 12 characters" in text(weak)

    done = client.post(link, data={"password": NEW})
    assert done.status_code == 303
    assert done.location.endswith("/acme/login")

    # The other browser, session and remember-me cookie alike, is signed out.
    signed_out = elsewhere.get("/acme/")
    assert signed_out.status_code == 302
    assert "/acme/login" in signed_out.location

    # The link works once.
    again = client.get(link)
    assert again.status_code == 410
    assert "already been used" in text(again)
    assert client.post(link, data={"password": "another-fine-passphrase"}).status_code == 410
    # An older link died with it.
    assert client.get(older).status_code == 410

    assert login(client, "acme", "ada@acme.fr").status_code == 422
    assert login(client, "acme", "ada@acme.fr", NEW).status_code == 303

    # A link left to expire is refused, and the password stays.
    late = ask_reset(new_client(), jobs, smtp_server)
    expire_tokens(app, "acme", "reset")
    expired = client.post(late, data={"password": "another-fine-passphrase"})
    assert expired.status_code == 410
    assert "expired" in text(expired)
    assert login(new_client(), "acme", "ada@acme.fr", NEW).status_code == 303


def test_forgot_page_same_answer_no_mail_for_unknown_and_throttled(
    app, client, make_tenant, smtp_server, jobs
):
    make_tenant("acme", admin="ada@acme.fr")
    response = client.post("/acme/password/forgot", data={"email": "nobody@acme.fr"})
    assert response.status_code == 200
    assert "nobody@acme.fr" in text(response)
    malformed = client.post("/acme/password/forgot", data={"email": "not-an-address"})
    assert malformed.status_code == 422
    assert "Invalid email address" in text(malformed)
    jobs()
    assert smtp_server.messages == []

    for _ in range(3):
        assert client.post("/acme/password/forgot", data={"email": "ada@acme.fr"}).status_code == 200
        jobs()  # one at a time: on SQLite a job writing while a request writes may fail (see the report)
    blocked = client.post("/acme/password/forgot", data={"email": "ada@acme.fr"})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert len(smtp_server.to("ada@acme.fr")) == 3


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, new_client, make_tenant):
    make_tenant("acme", admin="ada@acme.fr", language="en")
    elsewhere = new_client()
    assert login(elsewhere, "acme", "ada@acme.fr", remember=True).status_code == 303
    assert login(client, "acme", "ada@acme.fr", remember=True).status_code == 303

    wrong = client.post(
        "/acme/account", data={"password-current_password": "not-it-at-all", "password-password": NEW}
    )
    assert wrong.status_code == 200
    assert "Your current password is not correct." in text(wrong)
    assert elsewhere.get("/acme/").status_code == 200

    changed = client.post(
        "/acme/account", data={"password-current_password": PASSWORD, "password-password": NEW}
    )
    assert changed.status_code == 303
    kept = client.get(changed.location)
    assert kept.status_code == 200
    assert "other sessions are signed out" in text(kept)
    assert client.get("/acme/").status_code == 200
    signed_out = elsewhere.get("/acme/")
    assert signed_out.status_code == 302
    assert "/acme/login" in signed_out.location
    # This browser's remember-me cookie follows the change: it still signs in once the session is gone.
    reopened = new_client()
    reopened.set_cookie("emarge_remember", client.get_cookie("emarge_remember").value, path="/")
    assert reopened.get("/acme/").status_code == 200

    # Recorded once: the refused attempt left nothing.
    assert audit_actions(app, "acme").count("user.password_changed") == 1

    client.post("/acme/logout")
    assert login(client, "acme", "ada@acme.fr").status_code == 422
    assert login(client, "acme", "ada@acme.fr", NEW).status_code == 303


def test_requests_while_the_job_runner_sends(app, client, make_tenant, smtp_server, jobs):
    # On SQLite the web request and the embedded job thread write the same tenant file at once.
    people = tuple(f"f{i}@acme.fr" for i in range(8))
    make_tenant("acme", admin="ada@acme.fr", facilitators=people)
    codes = [client.post("/acme/password/forgot", data={"email": p}).status_code for p in people]
    jobs()
    assert codes == [200] * len(people)
    assert [len(smtp_server.to(p)) for p in people] == [1] * len(people)
