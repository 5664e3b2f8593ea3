"""A trainee's own data and rights, from their personal link: what the organization holds about them (and
nothing of the other trainees of the same session), a request that lands in the admins' inbox, the answer
emailed back, and text messages stopped; another's token, or a tampered one, opens nothing."""

from __future__ import annotations

from tests.conftest import login, run_jobs
from tests.rights.conftest import text
from tests.signing.conftest import audit_actions, data_url, link_path, png


def give_sms_consent(app, world, participant_id: int) -> None:
    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        db.session.get(Participant, participant_id).sms_consent = True
        db.session.commit()


def test_a_trainee_sees_their_data_asks_and_is_answered(app, world, smtp_server):
    trainee = app.test_client()
    trainee.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_path = link_path(app, world, world.paul)
    signed = trainee.post(sign_path, data={"slot": str(world.remote_slot), "signature": data_url(png())})
    assert signed.status_code in (200, 303)
    assert f"{sign_path}/my-data/" in text(trainee.get(sign_path))
    give_sms_consent(app, world, world.paul)

    page = trainee.get(f"{sign_path}/my-data/")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    body = text(page)
    for held in ("Paul Martin", "paul@acme-client.fr", "Safety at work", "Present", "Agreed"):
        assert held in body, held
    for other in ("Rita", "Bernard", "Zoe", "zoe@acme-client.fr"):  # the same session's other trainees
        assert other not in body, other

    asked = trainee.post(f"{sign_path}/my-data/", data={"kind": "erasure", "message": "Please erase me."})
    assert asked.status_code == 303 and asked.headers["Location"].endswith("?done=asked")
    assert "Sent to the organization" in text(trainee.get(asked.headers["Location"]))
    refused = trainee.post(f"{sign_path}/my-data/", data={"kind": "bogus"})
    assert refused.status_code == 422
    stopped = trainee.post(f"{sign_path}/my-data/sms-consent")
    assert stopped.status_code == 303
    assert "Not agreed" in text(trainee.get(f"{sign_path}/my-data/"))

    admin = app.test_client()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(admin, "acme", world.admin).status_code == 303
    inbox = text(admin.get("/acme/rights/"))
    assert "Erase my data (erasure)" in inbox and "Paul Martin" in inbox
    actions = audit_actions(app, "acme")
    assert "rights_request.received" in actions and "participant.sms_consent_withdrawn" in actions
    request_id = int(inbox.split('data-request="')[1].split('"')[0])
    admin.post(
        f"/acme/rights/{request_id}/answer",
        data={
            "version": "1",
            "outcome": "refused",
            "text": "Your attendance must be kept 6 years for your funder.",
        },
    )
    run_jobs(app)
    (mail,) = [m for m in smtp_server.to("paul@acme-client.fr") if "the answer" in m["Subject"]]
    assert "must be kept 6 years" in mail.get_body(("plain",)).get_content()
    assert "refused" in text(trainee.get(f"{sign_path}/my-data/"))


def test_a_tampered_token_opens_nothing(app, world):
    sign_path = link_path(app, world, world.paul)
    token = sign_path.rsplit("/", 1)[1]
    middle = len(token) // 2
    forged = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    client = app.test_client()
    assert client.get(f"/acme/sign/{forged}/my-data/").status_code == 404
    assert client.post(f"/acme/sign/{forged}/my-data/", data={"kind": "access"}).status_code == 404
    assert "Paul" not in text(client.get(f"/acme/sign/{forged}/my-data/"))
