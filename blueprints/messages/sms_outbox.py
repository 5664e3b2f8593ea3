"""The development SMS adapter: each SMS kept as a ``DevSms`` row of the tenant, shown at
``/<org>/messages/sms-outbox``, and the choice between it and the HTTP gateway."""

from __future__ import annotations

from flask import Flask

from blueprints.messages.models import DevSms
from blueprints.shared.sms import HttpGateway, SmsGateway, SmsResult, segments
from tenants.db import db


class DevSmsGateway:
    """Keeps each SMS as a DevSms row of the tenant in scope (the caller commits): nothing leaves the machine."""

    def send(
        self, to_e164: str, sender: str, body: str, *, reference: str, callback_url: str | None = None
    ) -> SmsResult:
        message_id = reference.rsplit("-", 1)[-1]
        row = DevSms(
            message_id=int(message_id) if message_id.isdigit() else None,
            recipient=to_e164,
            sender=sender,
            body=body,
            segments=segments(body),
        )
        db.session.add(row)
        db.session.flush()
        return SmsResult(f"dev-{row.id}", f"kept in the development outbox ({row.segments} part(s))")


def sms_gateway(app: Flask) -> SmsGateway:
    """The HTTP gateway when ``SMS_GATEWAY_URL`` is set, else the development adapter."""
    c = app.config
    if c.get("SMS_GATEWAY_URL"):
        return HttpGateway(
            c["SMS_GATEWAY_URL"],
            user=c.get("SMS_GATEWAY_USER"),
            password=c.get("SMS_GATEWAY_PASSWORD"),
            token=c.get("SMS_GATEWAY_TOKEN"),
            timeout=float(c.get("SMS_TIMEOUT") or 10),
        )
    return DevSmsGateway()
