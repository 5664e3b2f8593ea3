"""The SMS gateway's delivery receipts: ``POST /hooks/sms/<org>/receipt`` (protocol in blueprints/shared/sms.py).

No login and no CSRF token: the gateway proves itself with ``X-Emarge-Signature``, a hex HMAC-SHA256 under
``SMS_RECEIPT_SECRET`` of ``<org>\n<X-Emarge-Timestamp>\n<raw body>``. Signing the organization's address stops
a receipt meant for one organization from being replayed to another; the timestamp, checked within
``MAX_SKEW``, stops an old receipt from being replayed later; and a receipt already applied (same gateway id and
status) is refused, so none is applied twice. Without a configured secret every receipt is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy import select

from blueprints.messages.models import (
    DELIVERED,
    FAILED,
    PENDING,
    QUEUED,
    SENDING,
    SENT,
    SMS,
    UNKNOWN,
    Message,
    SmsReceipt,
)
from blueprints.web import csrf
from blueprints.web.audit_guard import writes
from tenants import current_tenant
from tenants.db import db, utcnow
from tenants.sql import insert_or_nothing

logger = logging.getLogger(__name__)

bp = Blueprint("message_hooks", __name__)

DELIVERED_WORDS = {"delivered"}
FAILED_WORDS = {"failed", "undelivered", "undeliverable", "rejected", "expired"}
MAX_BODY = 16 * 1024
MAX_SKEW = 300  # seconds between the gateway's timestamp and our clock


def signature_of(slug: str, timestamp: str, body: bytes, secret: str) -> str:
    signed = slug.encode() + b"\n" + timestamp.encode() + b"\n" + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _authentic(slug: str, body: bytes) -> bool:
    secret = current_app.config.get("SMS_RECEIPT_SECRET")
    given = (request.headers.get("X-Emarge-Signature") or "").strip().removeprefix("sha256=")
    timestamp = (request.headers.get("X-Emarge-Timestamp") or "").strip()
    if not (secret and given and timestamp.isdigit()):
        return False
    return hmac.compare_digest(signature_of(slug, timestamp, body, secret), given.lower())


def _fresh() -> bool:
    return abs(time.time() - int(request.headers["X-Emarge-Timestamp"].strip())) <= MAX_SKEW


def _first_time(provider_id: str, status: str) -> bool:
    """Record the receipt as applied; False when it already was (a replay)."""
    values = {"provider_id": provider_id, "status": status, "received_at": utcnow()}
    return insert_or_nothing(db.session, SmsReceipt, values) is not None


@bp.post("/hooks/sms/<org>/receipt")
@csrf.exempt  # the gateway has no session; the HMAC of the body is the credential
@writes(none="a delivery receipt updates the message log, a record of its own")
def sms_receipt():
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    body = request.get_data()
    if not _authentic(current_tenant().slug, body):
        abort(403)
    if not _fresh():
        return jsonify(error=f"timestamp more than {MAX_SKEW} seconds off"), 403
    receipt = request.get_json(force=True, silent=True)
    if not isinstance(receipt, dict) or not receipt.get("id") or not isinstance(receipt.get("status"), str):
        return jsonify(error="expected a JSON object with id and status"), 400
    provider_id, status = str(receipt["id"])[:100], receipt["status"].strip().lower()[:30]
    if "\x00" in provider_id + status:
        return jsonify(error="id and status must be text"), 400
    message = _message_of(provider_id, receipt.get("reference"))
    if message is None:
        abort(404)
    if message.status in (PENDING, QUEUED, SENDING):
        # The worker has not recorded the gateway's answer yet: the gateway tries the receipt again later.
        db.session.rollback()
        return jsonify(error="not recorded yet, try again"), 409
    if not _first_time(provider_id, status):
        db.session.rollback()
        return jsonify(error="receipt already applied", id=message.id), 409
    apply_receipt(message, status, str(receipt.get("error") or "")[:300])
    db.session.commit()
    return jsonify(id=message.id, status=message.status)


def _message_of(provider_id: str, reference) -> Message | None:
    message = db.session.scalars(
        select(Message).where(Message.channel == SMS, Message.provider_id == provider_id)
    ).first()
    tenant_id, _, message_id = reference.partition("-") if isinstance(reference, str) else ("", "", "")
    if message is None and tenant_id == str(current_tenant().id) and message_id.isdigit():
        # A message a crash left "unknown" was never given the gateway's id; the reference names it.
        message = db.session.get(Message, int(message_id))
        if message is None or message.channel != SMS or message.provider_id not in (None, provider_id):
            return None
        message.provider_id = provider_id
    return message


def apply_receipt(message: Message, status: str, error: str) -> None:
    """Delivered is final; a failure counts only for a message not known to be delivered. Idempotent."""
    if status in DELIVERED_WORDS:
        if message.status != DELIVERED:
            message.status, message.delivered_at = DELIVERED, utcnow()
            message.sent_at = message.sent_at or message.delivered_at
            message.provider_answer = "receipt: delivered"
    elif status in FAILED_WORDS:
        if message.status in (SENT, UNKNOWN, FAILED):
            message.status = FAILED
            message.provider_answer = f"receipt: {status}" + (f" ({error})" if error else "")
    else:
        logger.info("SMS receipt for message %s: %s (kept as %s)", message.id, status, message.status)
