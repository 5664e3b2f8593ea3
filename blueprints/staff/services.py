"""Staff accounts: made, deactivated and given a new authenticator by platform admins, every change logged."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

import pyotp
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select

from blueprints.accounts.passwords import hash_password, password_problem
from blueprints.staff import totp
from blueprints.staff.models import PLATFORM_ADMIN, ROLES, Staff, StaffEvent, StaffLogin
from tenants.db import db

# What the log's actions are called (the log page shows them in words, templates/staff/team_log.html).
CREATED = "staff.created"
DEACTIVATED = "staff.deactivated"
REACTIVATED = "staff.reactivated"
AUTHENTICATOR_RESET = "staff.authenticator_reset"


class StaffError(ValueError):
    """A change refused, with the sentence to show."""


def email_problem(email: str) -> str | None:
    """What is wrong with ``email`` as a staff login, checked as the login form checks it (None: fine)."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return _("Enter a valid email address.")
    return None


def timezone_problem(name: str) -> str | None:
    return None if name in available_timezones() else _("Choose a timezone from the list.")


def log(actor_id: int | None, action: str, *, target: int | None = None, ip: str | None = None, **details):
    db.session.add(
        StaffEvent(staff_id=actor_id, action=action, target_staff_id=target, details=details, ip=ip)
    )


@dataclass(frozen=True)
class Enrolment:
    staff: Staff
    secret: str

    @property
    def uri(self) -> str:
        return pyotp.TOTP(self.secret).provisioning_uri(name=self.staff.email, issuer_name="Emarge staff")


def create_staff(
    email: str,
    *,
    name: str,
    role: str,
    password: str,
    timezone: str = "Europe/Paris",
    actor_id: int | None = None,
    ip: str | None = None,
    secret: str | None = None,
) -> Enrolment:
    """A new staff account, in the current transaction; its authenticator secret is returned once."""
    email = email.strip().lower()
    problem = (
        email_problem(email)
        or (None if role in ROLES else _("Choose a role."))
        or timezone_problem(timezone)
        or password_problem(password, email=email)
    )
    if problem:
        raise StaffError(problem)
    if db.session.scalar(select(Staff.id).where(Staff.email == email)):
        raise StaffError(_("A staff account with this email already exists."))
    secret = secret or pyotp.random_base32()
    staff = Staff(
        email=email,
        name=name.strip(),
        role=role,
        timezone=timezone,
        password_hash=hash_password(password),
        totp_secret=totp.encrypt_secret(secret),
    )
    db.session.add(staff)
    db.session.flush()
    log(actor_id, CREATED, target=staff.id, ip=ip, role=role)
    return Enrolment(staff, secret)


def set_active(actor: Staff, staff: Staff, active: bool, *, ip: str | None = None) -> None:
    """Deactivate (every login of the account ends at once) or reactivate a staff account."""
    if staff.active == active:
        return
    if not active:
        if staff.id == actor.id:
            raise StaffError(_("You cannot deactivate your own account."))
        others = db.session.scalar(
            select(func.count(Staff.id)).where(
                Staff.role == PLATFORM_ADMIN, Staff.active.is_(True), Staff.id != staff.id
            )
        )
        if staff.role == PLATFORM_ADMIN and not others:
            raise StaffError(_("The last platform admin cannot be deactivated."))
        db.session.execute(StaffLogin.__table__.delete().where(StaffLogin.staff_id == staff.id))
    staff.active = active
    log(actor.id, REACTIVATED if active else DEACTIVATED, target=staff.id, ip=ip)


def reset_authenticator(actor: Staff, staff: Staff, *, ip: str | None = None) -> Enrolment:
    """A new authenticator secret for a lost phone: the old one stops working, every login ends."""
    secret = pyotp.random_base32()
    staff.totp_secret = totp.encrypt_secret(secret)
    staff.totp_last_step = None
    db.session.execute(StaffLogin.__table__.delete().where(StaffLogin.staff_id == staff.id))
    log(actor.id, AUTHENTICATOR_RESET, target=staff.id, ip=ip)
    return Enrolment(staff, secret)
