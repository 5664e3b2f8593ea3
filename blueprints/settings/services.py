"""The organization's settings: identity, images, half-day times, language and timezone, sign-in channels.

Plain functions that take the actor; they flush, the caller commits.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from blueprints.accounts.models import Organization
from blueprints.audit.services import Actor, record
from blueprints.shared import uploads
from tenants.db import db
from tenants.models import Tenant
from tenants.storage import storage

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 16, 4000
CHANNELS = ("email", "sms", "both")
MAX_REMINDER_MINUTES = 1440
# La Poste's establishments share one SIREN; their SIRETs fail the Luhn check and follow their own rule,
# except the head office's, which keeps the Luhn key.
LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE = "35600000000048"


class SettingsError(Exception):
    """A refusal the person can act on; ``str()`` is the message, ``field`` the form field it belongs to."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- identifiers ---------------------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def siret_valid(value: str) -> bool:
    """14 digits passing the Luhn check; La Poste's establishments: the sum of the digits is a multiple of 5."""
    if not re.fullmatch(r"[0-9]{14}", value or ""):
        return False
    if value.startswith(LA_POSTE_SIREN) and value != LA_POSTE_HEAD_OFFICE:
        return sum(int(c) for c in value) % 5 == 0
    return luhn_valid(value)


def activity_number_valid(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9]{11}", value or ""))


# --- images --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def check_image(data: bytes, *, field: str) -> CheckedImage:
    """``data`` opened with Pillow: really a PNG or JPEG, 2 MB at most, of sane dimensions."""
    try:
        checked = uploads.check_file(
            data, accept=(uploads.PNG, uploads.JPEG), max_bytes=MAX_IMAGE_BYTES, sides=(MIN_SIDE, MAX_SIDE)
        )
    except uploads.UploadProblem as problem:
        if problem.reason == uploads.TOO_LARGE:
            raise SettingsError(_l("The image is larger than 2 MB."), field) from None
        if problem.reason == uploads.DIMENSIONS:
            raise SettingsError(
                _l(
                    "The image must be between %(min)d and %(max)d pixels wide and high.",
                    min=MIN_SIDE,
                    max=MAX_SIDE,
                ),
                field,
            ) from None
        raise SettingsError(_l("This file is not a PNG or JPEG image."), field) from None
    return CheckedImage(checked.data, checked.content_type, checked.extension, checked.width, checked.height)


def decode_data_url(value: str, *, field: str) -> bytes:
    """The bytes of a ``data:image/png;base64,…`` URL, as the signature pad sends it."""
    prefix = "data:image/png;base64,"
    if not value.startswith(prefix):
        raise SettingsError(_l("The drawn signature could not be read. Draw it again."), field)
    try:
        return base64.b64decode(value[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(_l("The drawn signature could not be read. Draw it again."), field) from None


# --- settings ------------------------------------------------------------------------------------------------

FIELDS = (
    "name",
    "siret",
    "activity_number",
    "address",
    "postal_code",
    "city",
    "contact_email",
    "contact_phone",
    "representative_name",
    "representative_title",
    "morning_start",
    "morning_end",
    "afternoon_start",
    "afternoon_end",
    "late_tolerance_minutes",
    "signin_channels",
    "reminder_before_minutes",
    "reminder_after_minutes",
    "slot_summary",
)


@dataclass
class SettingsData:
    name: str
    address: str
    postal_code: str
    city: str
    contact_email: str
    contact_phone: str | None
    siret: str | None
    activity_number: str | None
    representative_name: str | None
    representative_title: str | None
    morning_start: time
    morning_end: time
    afternoon_start: time
    afternoon_end: time
    late_tolerance_minutes: int
    signin_channels: str
    language: str
    timezone: str
    reminder_before_minutes: int = 60
    reminder_after_minutes: int = 15
    slot_summary: bool = True


@dataclass
class Images:
    """What the form sent for the logo and the signature: new bytes, or a removal."""

    logo: bytes | None = None
    remove_logo: bool = False
    signature: bytes | None = None  # uploaded file or decoded drawing
    remove_signature: bool = False


def _check(data: SettingsData) -> None:
    if data.siret and not siret_valid(data.siret):
        raise SettingsError(_l("This SIRET number is not valid: check its 14 digits."), "siret")
    if data.activity_number and not activity_number_valid(data.activity_number):
        raise SettingsError(_l("The declaration of activity number has 11 digits."), "activity_number")
    if not data.morning_start < data.morning_end <= data.afternoon_start < data.afternoon_end:
        raise SettingsError(
            _l(
                "The half-days must follow each other: morning start, morning end, afternoon start, afternoon end."
            ),
            "morning_end",
        )
    if not 0 <= data.late_tolerance_minutes <= 120:
        raise SettingsError(_l("Between 0 and 120 minutes."), "late_tolerance_minutes")
    if data.signin_channels not in CHANNELS:
        raise SettingsError(_l("Choose a sign-in channel."), "signin_channels")
    for name in ("reminder_before_minutes", "reminder_after_minutes"):
        minutes = getattr(data, name)
        if not isinstance(minutes, int) or not 0 <= minutes <= MAX_REMINDER_MINUTES:
            raise SettingsError(_l("Between 0 and 1440 minutes (24 hours)."), name)


def _plain(value):
    return str(value) if isinstance(value, (date, datetime, time)) else value


def _replace_blob(old_id: int | None, image: CheckedImage, filename: str) -> int:
    stored = storage().put(
        image.data, content_type=image.content_type, filename=f"{filename}.{image.extension}"
    )
    if old_id:
        storage().delete(str(old_id))
    return int(stored.key)


def update_settings(
    org: Organization, data: SettingsData, images: Images, actor: Actor, *, tenant_id: int
) -> dict:
    """Save the settings; returns what changed. Everything is checked before anything is written."""
    _check(data)
    logo = check_image(images.logo, field="logo") if images.logo else None
    signature = check_image(images.signature, field="signature") if images.signature else None

    changes = {}
    for name in FIELDS:
        before, after = getattr(org, name), getattr(data, name)
        if before != after:
            changes[name] = [_plain(before), _plain(after)]
            setattr(org, name, after)

    if logo:
        org.logo_blob_id = _replace_blob(org.logo_blob_id, logo, "logo")
        changes["logo"] = "replaced"
    elif images.remove_logo and org.logo_blob_id:
        storage().delete(str(org.logo_blob_id))
        org.logo_blob_id = None
        changes["logo"] = "removed"
    if signature:
        org.representative_signature_blob_id = _replace_blob(
            org.representative_signature_blob_id, signature, "signature"
        )
        changes["representative_signature"] = "replaced"
    elif images.remove_signature and org.representative_signature_blob_id:
        storage().delete(str(org.representative_signature_blob_id))
        org.representative_signature_blob_id = None
        changes["representative_signature"] = "removed"

    changes.update(_update_tenant(tenant_id, data.language, data.timezone))
    if changes:
        db.session.flush()
        record(actor, "organization.settings_updated", org, changes=changes)
    return changes


def _update_tenant(tenant_id: int, language: str, timezone: str) -> dict:
    """The platform's row of the tenant: language and timezone are read from it before any tenant table.

    Platform tables are reachable from the tenant's session on both back ends (another schema of the same
    PostgreSQL database; the main file SQLite attaches tenants to), so it changes in the same transaction.
    """
    table = Tenant.__table__
    row = db.session.execute(select(table.c.language, table.c.timezone).where(table.c.id == tenant_id)).one()
    changes = {}
    if row.language != language:
        changes["language"] = [row.language, language]
    if row.timezone != timezone:
        changes["timezone"] = [row.timezone, timezone]
    if changes:
        db.session.execute(
            update(table).where(table.c.id == tenant_id).values(language=language, timezone=timezone)
        )
    return changes


def image(blob_id: int | None) -> tuple[str, bytes] | None:
    """(content type, bytes) of a stored image, or None."""
    if not blob_id:
        return None
    found = storage().get(str(blob_id))
    if found is None:
        return None
    meta, data = found
    return meta.content_type, data
