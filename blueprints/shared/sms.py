"""The SMS transport: one small interface, an HTTP gateway adapter and a development adapter; text lengths.

Numbers are checked in ``blueprints/shared/phones.py``.

The gateway protocol (what a real provider's adapter maps to):

- ``POST SMS_GATEWAY_URL`` with a JSON body ``{"to": "+33612345678", "from": "<SMS_SENDER>", "text": "...",
  "reference": "<tenant>-<message id>", "callback_url": "https://.../hooks/sms/<org>/receipt"}``, authenticated
  with ``Authorization: Bearer <SMS_GATEWAY_TOKEN>`` or HTTP Basic (``SMS_GATEWAY_USER``/``SMS_GATEWAY_PASSWORD``).
  ``reference`` is the idempotency key: a gateway must ignore a second submission with the same reference,
  since a submission whose answer was lost (timeout) is tried again.
- A 2xx answer with a JSON object holding ``id`` means accepted: the id is stored and quoted by the receipts.
  Any other 4xx than 429 is a refusal for good (bad number, bad credentials); 429, 5xx, a timeout, a refused or
  dropped connection, or an answer that is not such JSON are temporary: the message is tried again later.
- Delivery receipts: the gateway POSTs ``{"id": "<its id>", "status": "delivered" | "failed" | ...,
  "error": "...", "reference": "..."}`` to the callback URL with two headers: ``X-Emarge-Timestamp: <Unix time
  in seconds>`` and ``X-Emarge-Signature: <hex HMAC-SHA256 under SMS_RECEIPT_SECRET of the organization's
  address in the URL, a newline, the timestamp, a newline, and the raw body>``. A receipt whose timestamp is
  more than 5 minutes off is refused (403), and so is one already applied, the same id with the same status
  (409, not to be retried); 409 "not recorded yet" asks for a retry later (see blueprints/messages/webhook_views.py).

Without ``SMS_GATEWAY_URL`` the development adapter (``blueprints/messages/sms_outbox.py``) keeps each SMS as a
``DevSms`` row of the tenant, readable in the app: nothing leaves the machine.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from flask import Flask

from blueprints.shared.mail import PermanentFailure, TemporaryFailure

logger = logging.getLogger(__name__)

DEFAULT_SENDER = "Emarge"
MAX_SEGMENTS = 6  # longer texts are refused: a sign-in SMS fits in one or two
SENDER_RE = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")

# GSM 03.38: the basic character set (one septet each) and its extension table (escape + one septet).
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsResult:
    provider_id: str
    answer: str


class SmsGateway(Protocol):
    def send(
        self, to_e164: str, sender: str, body: str, *, reference: str, callback_url: str | None = None
    ) -> SmsResult:
        """Hand one SMS over; raise TemporaryFailure (try again later) or PermanentFailure (never)."""
        ...


# --- lengths -----------------------------------------------------------------------------------


def encoding(text: str) -> str:
    """ "GSM-7" when every character is in the GSM alphabet, else "UCS-2"."""
    return "GSM-7" if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text) else "UCS-2"


def segments(text: str) -> int:
    """How many SMS ``text`` takes: 160 GSM-7 septets (153 per part when split), or 70 UCS-2 units (67).

    An escaped GSM character (two septets) and a surrogate pair (two UCS-2 units) are never split across parts.
    """
    if encoding(text) == "GSM-7":
        widths = [2 if c in GSM_EXTENDED else 1 for c in text]
        single, part = 160, 153
    else:
        widths = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, part = 70, 67
    total = sum(widths)
    if total <= single:
        return 1
    count, used = 1, 0
    for width in widths:
        if used + width > part:
            count, used = count + 1, 0
        used += width
    return count


def check_sender(value: str | None) -> str:
    """The alphanumeric sender id: 1 to 11 letters, digits or spaces, at least one letter."""
    value = (value or DEFAULT_SENDER).strip()
    if not SENDER_RE.match(value):
        raise ValueError(f"SMS_SENDER must be 1 to 11 letters, digits or spaces with a letter: {value!r}")
    return value


# --- adapters ------------------------------------------------------------------------------------------------


class HttpGateway:
    """The JSON-over-HTTP gateway described above, with the standard library's urllib."""

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 10,
    ):
        self.url, self.timeout = url, timeout
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        elif user:
            credentials = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self.headers["Authorization"] = f"Basic {credentials}"

    def send(
        self, to_e164: str, sender: str, body: str, *, reference: str, callback_url: str | None = None
    ) -> SmsResult:
        payload = {"to": to_e164, "from": sender, "text": body, "reference": reference}
        if callback_url:
            payload["callback_url"] = callback_url
        request = urllib.request.Request(
            self.url, data=json.dumps(payload).encode(), headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read(65536)
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read(2000)
        except TimeoutError as error:
            raise TemporaryFailure(f"gateway timeout: {error}") from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise TemporaryFailure(f"gateway unreachable: {error}") from error
        text = raw.decode("utf-8", "replace").strip()
        if status == 429 or status >= 500:
            raise TemporaryFailure(f"gateway {status}: {text[:200]}")
        if 400 <= status < 500:
            raise PermanentFailure(f"gateway {status}: {text[:200]}")
        if not 200 <= status < 300:
            raise TemporaryFailure(f"gateway {status}: {text[:200]}")
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        provider_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(provider_id, str | int) or isinstance(provider_id, bool) or str(provider_id) == "":
            raise TemporaryFailure(f"gateway {status} without an id: {text[:200]}")
        return SmsResult(str(provider_id)[:100], f"gateway {status}: {text[:200]}")


def sms_sender(app: Flask) -> str:
    return check_sender(app.config.get("SMS_SENDER"))
