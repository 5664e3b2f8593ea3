"""Phone numbers: what a mobile number is, written the French way or with its international prefix."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "FR"
MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def mobile_number(raw: str | None, region: str = DEFAULT_REGION) -> tuple[str | None, str | None]:
    """``(E.164, None)`` for a mobile number, ``(None, reason)`` otherwise.

    French numbers may be written the French way (06 12 34 56 78); others need their ``+`` prefix. A number
    whose type cannot be told from a mobile (FIXED_LINE_OR_MOBILE: the US, say) is accepted.
    """
    value = (raw or "").strip()
    if not value:
        return None, "no number"
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as error:
        return None, f"malformed number ({error})"
    if not phonenumbers.is_valid_number(number):
        return None, "invalid number"
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        return None, "not a mobile number"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None
