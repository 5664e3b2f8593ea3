"""SMS: numbers, lengths, the development adapter, the HTTP gateway adapter against a local server that plays
the gateway, and its delivery receipts."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from tenants import current_tenant
from tests.conftest import run_jobs
from tests.messages.test_delivery import backdate, rows, send_now, world_of

SECRET = "receipt-secret"


class Gateway:
    """An HTTP server in a thread that answers as told: ``ok``, ``500``, ``400``, ``429``, ``garbage``,
    ``timeout`` (answers after the client gave up), ``no-id``. Keeps every request."""

    def __init__(self):
        self.mode = "ok"
        self.requests: list[dict] = []
        self.count = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gateway.requests.append({"headers": dict(self.headers), "json": json.loads(body)})
                gateway.count += 1
                mode = gateway.mode
                if mode == "timeout":
                    time.sleep(1.5)
                    mode = "ok"
                status, answer = {
                    "ok": (201, json.dumps({"id": f"gw-{gateway.count}", "status": "accepted"})),
                    "no-id": (200, json.dumps({"status": "accepted"})),
                    "500": (500, "internal error"),
                    "429": (429, "slow down"),
                    "400": (400, json.dumps({"error": "invalid destination"})),
                    "garbage": (200, "<html>proxy error</html>"),
                }[mode]
                data = answer.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    server = Gateway().start()
    yield server
    server.stop()


@pytest.fixture
def sms_app(make_app, gateway):
    return make_app(
        SMS_GATEWAY_URL=gateway.url,
        SMS_GATEWAY_TOKEN="gw-token",
        SMS_SENDER="Acme",
        SMS_RECEIPT_SECRET=SECRET,
        SMS_TIMEOUT=0.5,
    )


def add_participant(app, slug: str, *, mobile="+33612345678", consent=True, restricted=False) -> int:
    from blueprints.participants.models import Participant
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        person = Participant(
            first_name="Sam",
            last_name="Texto",
            email=f"sam{time.monotonic_ns()}@acme-client.fr",
            mobile=mobile,
            sms_consent=consent,
            processing_restricted=restricted,
            language="en",
        )
        db.session.add(person)
        db.session.commit()
        return person.id


def text(app, slug: str, to: str, participant_id: int | None = None, **context) -> int:
    from blueprints.messages.services import queue_sms
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(slug, app):
        message = queue_sms(
            "signin_link",
            tenant=current_tenant(),
            to=to,
            name="Sam Texto",
            language="en",
            context={"training": "Safety at work", "link": "http://localhost/acme/sign/abc", **context},
            participant_id=participant_id,
        )
        db.session.commit()
        return message.id


def one(app, message_id: int):
    return rows(app, "acme", [message_id])[message_id]


# --- numbers and lengths ---------------------------------------------------------------------------------------


def test_french_mobiles_are_normalised_and_other_numbers_refused():
    from blueprints.shared.phones import mobile_number

    assert mobile_number("06 12 34 56 78") == ("+33612345678", None)
    assert mobile_number("07.81.23.45.67") == ("+33781234567", None)
    assert mobile_number("+33 6 12 34 56 78") == ("+33612345678", None)
    assert mobile_number("+44 7911 123456") == ("+447911123456", None)
    assert mobile_number("01 42 68 53 00") == (None, "not a mobile number")
    assert mobile_number("+44 20 7946 0958") == (None, "not a mobile number")
    assert mobile_number("06 12") == (None, "invalid number")
    assert mobile_number("call me")[1].startswith("malformed number")
    assert mobile_number("") == (None, "no number")


def test_gsm_and_ucs2_lengths_are_counted_in_parts():
    from blueprints.shared.sms import encoding, segments

    assert encoding("Bonjour, émargez à 9h : é è à ù") == "GSM-7"
    assert encoding("Ça commence") == "GSM-7"  # Ç is in the GSM alphabet
    assert encoding("ça commence") == "UCS-2"  # ç is not
    assert [segments("a" * n) for n in (1, 160, 161, 306, 307)] == [1, 1, 2, 2, 3]
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2  # two septets each
    assert segments("a" * 158 + "€") == 1 and segments("a" * 159 + "€") == 2
    assert [segments("ê" * n) for n in (70, 71, 134, 135)] == [1, 2, 2, 3]
    assert encoding("👍") == "UCS-2" and segments("👍" * 35) == 1 and segments("👍" * 36) == 2


def test_the_sender_id_is_checked_when_the_app_starts(monkeypatch, tmp_path):
    from app import ConfigError, load_config
    from blueprints.shared.sms import check_sender

    assert check_sender(None) == "Emarge" and check_sender("Acme 2026") == "Acme 2026"
    for bad in ("TwelveLetter", "Acme!", "12345"):
        with pytest.raises(ValueError):
            check_sender(bad)
    from flask import Flask

    app = Flask(__name__, instance_path=str(tmp_path))
    monkeypatch.setenv("SMS_SENDER", "Much too long a name")
    with pytest.raises(ConfigError, match="SMS_SENDER"):
        load_config(app)
    monkeypatch.setenv("SMS_SENDER", "Acme")
    assert load_config(app)["SMS_SENDER"] == "Acme"


# --- queueing ------------------------------------------------------------------------------------------------


def test_an_sms_is_skipped_with_its_reason_when_it_must_not_go(app, make_tenant):
    world_of(app, make_tenant)
    landline = text(app, "acme", "01 42 68 53 00")
    no_consent = text(app, "acme", "06 12 34 56 78", add_participant(app, "acme", consent=False))
    restricted = text(app, "acme", "06 12 34 56 78", add_participant(app, "acme", restricted=True))
    too_long = text(app, "acme", "06 12 34 56 78", training="ç" * 400)
    run_jobs(app)
    assert one(app, landline).provider_answer == "skipped: not a mobile number"
    assert one(app, no_consent).provider_answer == "skipped: no SMS consent"
    assert one(app, restricted).provider_answer == "skipped: processing restricted"
    assert one(app, too_long).provider_answer.startswith("skipped: text too long (8 SMS parts, at most 6)")
    assert {one(app, i).status for i in (landline, no_consent, restricted, too_long)} == {"failed"}


def test_the_development_adapter_keeps_the_sms_in_the_app(app, make_tenant):
    from blueprints.messages.models import DevSms
    from tenants import tenant_scope
    from tenants.db import db

    world_of(app, make_tenant)
    message_id = text(app, "acme", "06 12 34 56 78", add_participant(app, "acme"))
    assert one(app, message_id).recipient == "+33612345678"
    run_jobs(app)
    message = one(app, message_id)
    with tenant_scope("acme", app):
        (kept,) = db.session.scalars(select(DevSms)).all()
    assert message.status == "sent" and message.provider_id == f"dev-{kept.id}"
    assert kept.message_id == message_id and kept.recipient == "+33612345678" and kept.sender == "Emarge"
    assert kept.body.startswith("Acme: your personal link to sign your attendance for Safety at work")
    assert kept.body.endswith("http://localhost/acme/sign/abc") and kept.segments == 1


# --- the HTTP gateway ------------------------------------------------------------------------------------------


def test_the_gateway_accepts_and_its_id_is_stored(sms_app, make_tenant, gateway):
    world_of(sms_app, make_tenant)
    message_id = text(sms_app, "acme", "07 81 23 45 67", add_participant(sms_app, "acme"))
    run_jobs(sms_app)
    message = one(sms_app, message_id)
    assert (message.status, message.provider_id) == ("sent", "gw-1")
    assert message.provider_answer.startswith("gateway 201")
    (request,) = gateway.requests
    assert request["headers"]["Authorization"] == "Bearer gw-token"
    sent = request["json"]
    assert sent["to"] == "+33781234567" and sent["from"] == "Acme"
    assert sent["text"].startswith("Acme: your personal link") and sent["reference"].endswith(
        f"-{message_id}"
    )
    assert sent["callback_url"] == "http://localhost/hooks/sms/acme/receipt"


@pytest.mark.parametrize("mode", ["500", "429", "timeout", "garbage", "no-id"])
def test_a_gateway_error_timeout_or_garbage_is_tried_again(sms_app, make_tenant, gateway, mode):
    from jobs.messages import BACKOFF

    gateway.mode = mode
    world_of(sms_app, make_tenant)
    message_id = text(sms_app, "acme", "06 12 34 56 78", add_participant(sms_app, "acme"))
    run_jobs(sms_app)
    message = one(sms_app, message_id)
    assert message.status == "queued" and message.attempts == 1  # a delayed job waits for the backoff
    assert (message.not_before - message.last_attempt_at).total_seconds() == pytest.approx(BACKOFF[0], abs=2)
    expected = {
        "500": "gateway 500: internal error",
        "429": "gateway 429: slow down",
        "timeout": "gateway timeout",
        "garbage": "gateway 200 without an id: <html>",
        "no-id": "gateway 200 without an id",
    }
    assert message.provider_answer.startswith(expected[mode])
    # The gateway is well again: once the backoff is over, the retry goes out, once.
    gateway.mode = "ok"
    backdate(sms_app, "acme", [message_id], not_before=timedelta(seconds=1))
    assert send_now(sms_app, "acme", [message_id])["sent"] == 1
    assert one(sms_app, message_id).status == "sent" and one(sms_app, message_id).attempts == 2


def test_a_gateway_refusal_fails_for_good(sms_app, make_tenant, gateway):
    gateway.mode = "400"
    world_of(sms_app, make_tenant)
    message_id = text(sms_app, "acme", "06 12 34 56 78", add_participant(sms_app, "acme"))
    run_jobs(sms_app)
    message = one(sms_app, message_id)
    assert message.status == "failed" and message.not_before is None
    assert (
        message.provider_answer.startswith("gateway 400") and "invalid destination" in message.provider_answer
    )


# --- delivery receipts ------------------------------------------------------------------------------------------


def post_receipt(
    client,
    payload,
    *,
    secret: str | None = SECRET,
    slug: str = "acme",
    signature=None,
    timestamp: int | None = None,
    signed_slug: str | None = None,
):
    """A receipt as the gateway sends it: signed over the organization, the timestamp and the body."""
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    if signature is None and secret:
        signed = (signed_slug or slug).encode() + b"\n" + stamp.encode() + b"\n" + body
        signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Emarge-Timestamp": stamp}
    if signature:
        headers["X-Emarge-Signature"] = signature
    return client.post(f"/hooks/sms/{slug}/receipt", data=body, headers=headers)


def test_a_delivery_receipt_marks_the_sms_delivered_once(sms_app, make_tenant, gateway):
    world_of(sms_app, make_tenant)
    message_id = text(sms_app, "acme", "06 12 34 56 78", add_participant(sms_app, "acme"))
    run_jobs(sms_app)
    client = sms_app.test_client()
    answer = post_receipt(client, {"id": "gw-1", "status": "delivered"})
    assert answer.status_code == 200 and answer.json == {"id": message_id, "status": "delivered"}
    first = one(sms_app, message_id)
    assert first.status == "delivered" and first.delivered_at is not None
    # The same receipt again (a replay, or the gateway's retry) is refused; a late "failed" changes nothing.
    replay = post_receipt(client, {"id": "gw-1", "status": "delivered"})
    assert replay.status_code == 409 and replay.json["error"] == "receipt already applied"
    assert post_receipt(client, {"id": "gw-1", "status": "failed", "error": "late"}).status_code == 200
    again = one(sms_app, message_id)
    assert (again.status, again.delivered_at) == ("delivered", first.delivered_at)


def test_a_failure_receipt_marks_the_sms_failed_with_the_gateways_reason(sms_app, make_tenant, gateway):
    world_of(sms_app, make_tenant)
    message_id = text(sms_app, "acme", "06 12 34 56 78", add_participant(sms_app, "acme"))
    run_jobs(sms_app)
    answer = post_receipt(sms_app.test_client(), {"id": "gw-1", "status": "undelivered", "error": "absent"})
    assert answer.status_code == 200
    message = one(sms_app, message_id)
    assert message.status == "failed" and message.provider_answer == "receipt: undelivered (absent)"


def test_receipts_without_a_valid_signature_or_for_unknown_ids_are_refused(
    sms_app, make_app, make_tenant, gateway
):
    world_of(sms_app, make_tenant)
    message_id = text(sms_app, "acme", "06 12 34 56 78", add_participant(sms_app, "acme"))
    run_jobs(sms_app)
    client = sms_app.test_client()
    assert post_receipt(client, {"id": "gw-1", "status": "delivered"}, secret="wrong").status_code == 403
    assert post_receipt(client, {"id": "gw-1", "status": "delivered"}, secret=None).status_code == 403
    assert post_receipt(client, {"id": "gw-404", "status": "delivered"}).status_code == 404
    assert post_receipt(client, {"id": "gw-1", "status": "delivered"}, slug="nowhere").status_code == 404
    assert post_receipt(client, {"status": "delivered"}).status_code == 400
    assert one(sms_app, message_id).status == "sent"
    # No secret configured: every receipt is refused.
    unsigned = make_app(SMS_RECEIPT_SECRET=None).test_client()
    assert post_receipt(unsigned, {"id": "gw-1", "status": "delivered"}).status_code == 403


def test_a_receipt_before_the_worker_recorded_the_answer_is_asked_again_and_one_for_an_unknown_sms_settles_it(
    sms_app, make_tenant, gateway
):
    from sqlalchemy import update

    from blueprints.messages.models import Message
    from tenants import find_tenant, tenant_scope
    from tenants.db import db

    world_of(sms_app, make_tenant)
    message_id = text(sms_app, "acme", "06 12 34 56 78", add_participant(sms_app, "acme"))
    run_jobs(sms_app)
    with sms_app.app_context():
        reference = f"{find_tenant(slug='acme').id}-{message_id}"
    client = sms_app.test_client()
    with tenant_scope("acme", sms_app):
        # As if the worker were still between the gateway's answer and its commit.
        db.session.execute(update(Message).values(status="sending"))
        db.session.commit()
    assert post_receipt(client, {"id": "gw-1", "status": "delivered"}).status_code == 409
    assert one(sms_app, message_id).status == "sending"
    with tenant_scope("acme", sms_app):
        # A crash left it "unknown", the gateway's id never recorded: the reference names it.
        db.session.execute(update(Message).values(status="unknown", provider_id=None))
        db.session.commit()
    receipt = {"id": "gw-77", "status": "delivered", "reference": reference}
    assert post_receipt(client, {**receipt, "reference": f"999-{message_id}"}).status_code == 404
    assert post_receipt(client, receipt).status_code == 200
    message = one(sms_app, message_id)
    assert (message.status, message.provider_id) == ("delivered", "gw-77")


def test_receipts_are_signed_over_the_organization_and_a_fresh_timestamp(sms_app, make_tenant, gateway):
    world_of(sms_app, make_tenant)
    message_id = text(sms_app, "acme", "06 12 34 56 78", add_participant(sms_app, "acme"))
    run_jobs(sms_app)
    client = sms_app.test_client()
    receipt = {"id": "gw-1", "status": "delivered"}
    # Signed for another organization, then replayed to this one: refused.
    assert post_receipt(client, receipt, signed_slug="beta").status_code == 403
    # Signed correctly but six minutes old, or six minutes ahead: refused.
    assert post_receipt(client, receipt, timestamp=int(time.time()) - 360).status_code == 403
    assert post_receipt(client, receipt, timestamp=int(time.time()) + 360).status_code == 403
    # A timestamp changed after signing breaks the signature.
    body = json.dumps(receipt).encode()
    stamp = str(int(time.time()) - 3600)
    signed = b"acme\n" + stamp.encode() + b"\n" + body
    old_signature = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    moved = client.post(
        "/hooks/sms/acme/receipt",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Emarge-Timestamp": str(int(time.time())),
            "X-Emarge-Signature": old_signature,
        },
    )
    assert moved.status_code == 403
    assert one(sms_app, message_id).status == "sent"
    assert post_receipt(client, receipt).status_code == 200
    assert one(sms_app, message_id).status == "delivered"
