"""Accounts: sign-up, login, one-time links, invitations, roles. Plain functions that take the actor."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from blueprints.accounts import logins
from blueprints.accounts.models import ADMIN, ROLES, AccountToken, Organization, User
from blueprints.accounts.passwords import hash_password, password_problem, verify_password
from blueprints.audit.services import Actor, record
from blueprints.messages.services import N_, queue_email
from blueprints.web.urls import external_url
from tenants import TenantRef, tenant_scope
from tenants.db import db, utcnow
from tenants.models import BillingProfile, Tenant
from tenants.provisioning import NewTenant, provision

VERIFY, RESET, INVITE = "verify", "reset", "invite"
LIFETIME = {VERIFY: timedelta(days=3), RESET: timedelta(hours=1), INVITE: timedelta(days=7)}


class AccountError(Exception):
    """A refusal the person can act on; ``str()`` is the message to show."""


class WrongPassword(AccountError):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(session: Session, user: User, purpose: str) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_token_hash(raw),
            expires_at=utcnow() + LIFETIME[purpose],
        )
    )
    return raw


def check_token(raw: str, purpose: str) -> AccountToken:
    """The live token behind ``raw``, or an AccountError that says why not (unknown, used, expired)."""
    token = db.session.scalars(
        select(AccountToken).where(
            AccountToken.token_hash == _token_hash(raw), AccountToken.purpose == purpose
        )
    ).first()
    if token is None:
        raise AccountError(
            _l("This link is not valid. Check that you copied it whole, or ask for a new one.")
        )
    if token.used_at is not None:
        raise AccountError(_l("This link has already been used. Ask for a new one if you need to."))
    if token.expires_at < utcnow():
        raise AccountError(_l("This link has expired. Ask for a new one."))
    return token


def _spend(token: AccountToken) -> None:
    token.used_at = utcnow()
    # Any other live link of the same kind dies with it.
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == token.user_id,
            AccountToken.purpose == token.purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=token.used_at)
    )


def _link(endpoint: str, raw: str) -> str:
    return external_url(endpoint, token=raw)


# --- sign-up -----------------------------------------------------------------------------------------------


@dataclass
class SignUp:
    organization_name: str
    slug: str
    first_name: str
    last_name: str
    email: str
    phone: str
    address: str
    postal_code: str
    city: str
    billing_name: str
    billing_address: str
    vat_number: str | None
    password_hash: str
    language: str = "fr"


def sign_up(data: SignUp, actor: Actor) -> TenantRef:
    """The organization, its schema and its first admin, at once, then the verification email.

    Provisioning commits (it is one transaction of its own); the email is queued once the tenant exists.
    """
    email = normalize_email(data.email)
    verification: list[tuple[int, str]] = []

    def populate(session: Session, ref: TenantRef) -> None:
        session.add(
            Organization(
                name=data.organization_name,
                address=data.address,
                postal_code=data.postal_code,
                city=data.city,
                contact_email=email,
                contact_phone=data.phone,
            )
        )
        session.add(
            BillingProfile(
                tenant_id=ref.id,
                billing_name=data.billing_name,
                billing_address=data.billing_address,
                vat_number=data.vat_number or None,
            )
        )
        admin = User(
            email=email,
            first_name=data.first_name,
            last_name=data.last_name,
            phone=data.phone,
            role=ADMIN,
            password_hash=data.password_hash,
            language=data.language,
        )
        session.add(admin)
        session.flush()
        record(actor.as_user(admin), "organization.created", admin, session=session, slug=ref.slug)
        verification.append((admin.id, issue_token(session, admin, VERIFY)))

    ref = provision(
        NewTenant(slug=data.slug, name=data.organization_name, language=data.language, confirmed=False),
        populate,
    )
    with tenant_scope(ref):
        admin_id, raw = verification[0]
        send_verification(db.session.get(User, admin_id), raw, tenant=ref)
        db.session.commit()
    return ref


def send_verification(user: User, raw: str, *, tenant: TenantRef) -> None:
    queue_email(
        "verify_email",
        tenant=tenant,
        to=user.email,
        name=user.full_name,
        language=user.language or "fr",
        subject=N_("Confirm your email address for %(organization)s"),
        user_id=user.id,
        sensitive=True,
        context={"link": _link("accounts.verify", raw)},
    )


def verify_email(raw: str, actor: Actor, *, tenant_id: int) -> User:
    token = check_token(raw, VERIFY)
    user = db.session.get(User, token.user_id)
    _spend(token)
    user.email_verified_at = utcnow()
    confirm_organization(tenant_id, user.email_verified_at)
    record(actor.as_user(user), "user.email_verified", user)
    return user


def confirm_organization(tenant_id: int, when) -> None:
    """The organization has a confirmed address: it is no longer deleted after UNCONFIRMED_ORGANIZATION."""
    db.session.execute(
        update(Tenant).where(Tenant.id == tenant_id, Tenant.confirmed_at.is_(None)).values(confirmed_at=when)
    )


def set_language(user: User, language: str, actor: Actor) -> None:
    if user.language != language:
        record(actor, "user.preferences_changed", user, language=language, was=user.language)
        user.language = language


# --- login ---------------------------------------------------------------------------------------------------


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalars(select(User).where(User.email == normalize_email(email))).first()
    if not verify_password(user.password_hash if user else None, password):
        return None
    return user


def record_login(user: User, actor: Actor, remember: bool) -> None:
    user.last_login_at = utcnow()
    record(actor.as_user(user), "user.login", user, remember=remember)


def end_login(user: User, login_id: int, actor: Actor) -> bool:
    """Sign one of the user's browsers out (from the account page)."""
    ended = logins.end_login(user.id, login_id)
    if ended:
        record(actor, "user.login_ended", user, login=login_id)
    return ended


def end_other_logins(user: User, keep: int, actor: Actor) -> int:
    ended = logins.end_logins(user.id, keep=keep)
    record(actor, "user.other_logins_ended", user, logins_ended=ended)
    return ended


# --- passwords -----------------------------------------------------------------------------------------------


def _set_password(user: User, password: str) -> None:
    problem = password_problem(password, email=user.email, names=(user.first_name, user.last_name))
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)


def change_password(user: User, current: str, new: str, actor: Actor, *, keep_login: int | None) -> int:
    """The new password; every login of the user but ``keep_login`` (the browser asking) ends. Returns how many."""
    if not verify_password(user.password_hash, current):
        raise WrongPassword(_l("Your current password is not correct."))
    _set_password(user, new)
    ended = logins.end_logins(user.id, keep=keep_login)
    record(actor, "user.password_changed", user, logins_ended=ended)
    return ended


def request_reset(email: str, actor: Actor, *, tenant: TenantRef) -> None:
    """Email a reset link if the address has an account; the page says the same either way."""
    user = db.session.scalars(
        select(User).where(User.email == normalize_email(email), User.active.is_(True))
    ).first()
    if user is None:
        return
    raw = issue_token(db.session, user, RESET)
    record(actor.as_user(user), "user.password_reset_requested", user)
    queue_email(
        "reset_password",
        tenant=tenant,
        to=user.email,
        name=user.full_name,
        language=user.language or "fr",
        subject=N_("Reset your password for %(organization)s"),
        user_id=user.id,
        sensitive=True,
        context={"link": _link("accounts.reset_password", raw), "hours": 1},
    )


def reset_password(raw: str, password: str, actor: Actor, *, tenant_id: int) -> User:
    token = check_token(raw, RESET)
    user = db.session.get(User, token.user_id)
    _set_password(user, password)
    _spend(token)
    # Receiving the link proves the address.
    user.email_verified_at = user.email_verified_at or utcnow()
    confirm_organization(tenant_id, user.email_verified_at)
    # Whoever knew the old password is signed out everywhere.
    ended = logins.end_logins(user.id)
    record(actor.as_user(user), "user.password_reset", user, logins_ended=ended)
    return user


# --- users of the organization --------------------------------------------------------------------------------


def invite_user(
    *,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    language: str,
    inviter: User,
    actor: Actor,
    tenant: TenantRef,
) -> User:
    email = normalize_email(email)
    if role not in ROLES:
        raise AccountError(_l("Unknown role."))
    if db.session.scalars(select(User.id).where(func.lower(User.email) == email)).first():
        raise AccountError(_l("A user with this email address already exists in your organization."))
    user = User(email=email, first_name=first_name, last_name=last_name, role=role, language=language)
    db.session.add(user)
    db.session.flush()
    raw = issue_token(db.session, user, INVITE)
    record(actor, "user.invited", user, role=role)
    queue_email(
        "invitation",
        tenant=tenant,
        to=user.email,
        name=user.full_name,
        language=language,
        subject=N_("%(inviter)s invites you to %(organization)s on Emarge"),
        user_id=user.id,
        sensitive=True,
        context={"link": _link("accounts.accept_invitation", raw), "inviter": inviter.full_name},
    )
    return user


def accept_invitation(raw: str, password: str, actor: Actor, *, tenant_id: int) -> User:
    token = check_token(raw, INVITE)
    user = db.session.get(User, token.user_id)
    if not user.active:
        raise AccountError(_l("This account has been deactivated."))
    _set_password(user, password)
    _spend(token)
    user.email_verified_at = utcnow()
    confirm_organization(tenant_id, user.email_verified_at)
    record(actor.as_user(user), "user.invitation_accepted", user)
    return user


def _admins_left_without(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == ADMIN, User.active.is_(True), User.id != user.id)
    )


def change_role(user: User, role: str, actor: Actor) -> None:
    if role not in ROLES:
        raise AccountError(_l("Unknown role."))
    if user.role == ADMIN and role != ADMIN and not _admins_left_without(user):
        raise AccountError(_l("An organization keeps at least one active administrator."))
    if role != user.role:
        record(actor, "user.role_changed", user, before=user.role, after=role)
        user.role = role


def set_active(user: User, active: bool, actor: Actor) -> None:
    if not active and user.role == ADMIN and not _admins_left_without(user):
        raise AccountError(_l("An organization keeps at least one active administrator."))
    if active != user.active:
        user.active = active
        logins.end_logins(user.id)
        record(actor, "user.activated" if active else "user.deactivated", user)
