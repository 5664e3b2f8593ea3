"""The SMS gateway's delivery receipts: ``POST /hooks/sms/<org>/receipt`` (protocol in jobs/sms.py).

No login and no CSRF token: the gateway proves itself with an HMAC-SHA256 of the raw body under
``SMS_RECEIPT_SECRET`` in ``X-Emarge-Signature``. Without a configured secret every receipt is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

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
)
from blueprints.web import csrf
from tenants import current_tenant
from tenants.db import db, utcnow

logger = logging.getLogger(__name__)

bp = Blueprint("message_hooks", __name__)

DELIVERED_WORDS = {"delivered"}
FAILED_WORDS = {"failed", "undelivered", "undeliverable", "rejected", "expired"}
MAX_BODY = 16 * 1024


def signature_of(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _authentic(body: bytes) -> bool:
    secret = current_app.config.get("SMS_RECEIPT_SECRET")
    given = (request.headers.get("X-Emarge-Signature") or "").strip().removeprefix("sha256=")
    return bool(secret and given) and hmac.compare_digest(signature_of(body, secret), given.lower())


@bp.post("/hooks/sms/<org>/receipt")
@csrf.exempt  # the gateway has no session; the HMAC of the body is the credential
def sms_receipt():
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    body = request.get_data()
    if not _authentic(body):
        abort(403)
    receipt = request.get_json(force=True, silent=True)
    if not isinstance(receipt, dict) or not receipt.get("id") or not isinstance(receipt.get("status"), str):
        return jsonify(error="expected a JSON object with id and status"), 400
    message = _message_of(str(receipt["id"])[:100], receipt.get("reference"))
    if message is None:
        abort(404)
    if message.status in (PENDING, QUEUED, SENDING):
        # The worker has not recorded the gateway's answer yet: the gateway tries the receipt again later.
        db.session.rollback()
        return jsonify(error="not recorded yet, try again"), 409
    apply_receipt(message, receipt["status"].strip().lower(), str(receipt.get("error") or "")[:300])
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
