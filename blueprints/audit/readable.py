"""The audit trail in words: "Sign-in link sent to Inès Benali for SST, 3 Dec 2026", each object a name with a
link, in the reader's language. The stored event keeps its codes (the CSV export gives them as they are).

A page of events is described with one query per kind of object it names (people, users, sessions, half-days,
trainings, documents, messages, links), whatever the number of events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.accounts.models import User
from blueprints.audit.models import AuditEvent
from blueprints.documents.models import Document
from blueprints.documents.services import kind_label
from blueprints.messages.models import Message
from blueprints.participants.models import Participant
from blueprints.signing.models import SignInLink
from blueprints.staff.models import Staff
from blueprints.trainings.models import Slot, Training, TrainingSession
from blueprints.web.i18n import format_date, local_datetime
from tenants.db import db
from tenants.scope import STAFF, SYSTEM

# What each action says. The placeholders name the objects an event refers to: the object itself or the ids its
# details carry (participant, participants, session, slot, training, user, document, message).
ACTIONS = {
    "attendance.signed": _l("%(participant)s signed %(slot)s"),
    "attendance.absent": _l("%(participant)s marked absent on %(slot)s"),
    "attendance.excused": _l("%(participant)s marked as excused absence on %(slot)s"),
    "attendance.arrival": _l("Late arrival recorded for %(participant)s on %(slot)s"),
    "attendance.departure": _l("Early departure recorded for %(participant)s on %(slot)s"),
    "attendance.clear_departure": _l("Early departure cancelled for %(participant)s on %(slot)s"),
    "attendance.paper": _l("%(participant)s recorded present on paper on %(slot)s"),
    "attendance.changed_after_sign_off": _l(
        "Attendance changed after sign-off for %(participant)s on %(slot)s"
    ),
    "attendance.exported": _l("Attendance exported for %(session)s"),
    "audit.exported": _l("Audit trail exported"),
    "document.issued": _l("Document issued: %(document)s"),
    "enrollment.created": _l("%(participant)s enrolled in %(session)s"),
    "enrollment.removed": _l("%(participant)s removed from %(session)s"),
    "enrollment.updated": _l("Enrollment changed for %(participant)s in %(session)s"),
    "message.resent": _l("Message sent again to %(message)s"),
    "organization.created": _l("Organization created"),
    "organization.settings_updated": _l("Organization settings changed"),
    "organization.archived": _l("Full archive of the organization made"),
    "organization.closed": _l("Account closed"),
    "organization.deletion_requested": _l("Deletion of the organization asked for"),
    "organization.deletion_undone": _l("Deletion of the organization undone"),
    "organization.keeping_chosen": _l("Retention after the end of service chosen"),
    "organization.tracking_settings_updated": _l("Attendance tracking settings changed"),
    "justification.submitted": _l("Justification of absence sent"),
    "justification.decided": _l("Justification of absence decided"),
    "organization.support_access_changed": _l("Support access setting changed"),
    "support_grant.created": _l("Access given to Emarge support"),
    "support_grant.revoked": _l("Access of Emarge support revoked"),
    "support_session.started": _l("Support session started as %(user)s"),
    "support_session.ended": _l("Support session ended"),
    "paper_sheet.uploaded": _l("Paper sheet uploaded for %(slot)s"),
    "participant.created": _l("Participant added: %(participant)s"),
    "participant.updated": _l("Details changed for %(participant)s"),
    "participant.archived": _l("Participant archived: %(participant)s"),
    "participant.unarchived": _l("Participant restored: %(participant)s"),
    "participant.processing_restricted": _l("Processing restricted for %(participant)s"),
    "participant.processing_unrestricted": _l("Restriction lifted for %(participant)s"),
    "participant.sms_consent_withdrawn": _l("Text-message consent withdrawn by %(participant)s"),
    "participant.data_exported": _l("Personal data of %(participant)s exported"),
    "participant.erased": _l("Personal data of %(participant)s erased"),
    "participant.data_link_sent": _l("Link to their data sent to %(participant)s"),
    "participant.evidence_anonymised": _l(
        "Attendance evidence of %(participant)s anonymised (end of the period kept)"
    ),
    "participants.exported": _l("Participant directory exported"),
    "participants.import_uploaded": _l("Participant file uploaded for import"),
    "participants.import_started": _l("Participant import started"),
    "participants.imported": _l("Participants imported"),
    "rights_request.received": _l("Personal-data request received"),
    "rights_request.extended": _l("Personal-data request: answer time extended"),
    "rights_request.answered": _l("Personal-data request answered"),
    "rights_request.refused": _l("Personal-data request refused"),
    "session.created": _l("Session created: %(session)s"),
    "session.updated": _l("Session changed: %(session)s"),
    "session.dates_changed": _l("Dates changed for %(session)s"),
    "session.duplicated": _l("Session duplicated: %(session)s"),
    "session.archived": _l("Session archived: %(session)s"),
    "session.unarchived": _l("Session restored: %(session)s"),
    "session.slots_generated": _l("Half-days planned for %(session)s"),
    "session.roster_exported": _l("Roster exported for %(session)s"),
    "session.invitation_sent": _l("Sign-in link sent to %(participant)s for %(session)s"),
    "session.invitations_sent": _l("Sign-in links sent to %(participants)s for %(session)s"),
    "session.facilitator_links_sent": _l("Facilitators' links sent for %(session)s"),
    "signin_link.issued": _l("Sign-in link made for %(participants)s for %(session)s"),
    "signin_link.reissued": _l("Sign-in link renewed for %(participants)s"),
    "signin_link.revoked": _l("Sign-in link withdrawn for %(participants)s"),
    "signin_link.renewal_refused": _l("Sign-in link renewal refused for %(participants)s"),
    "signin_link.facilitator_used": _l("Personal link used by %(user)s for %(session)s"),
    "slot.created": _l("Half-day added: %(slot)s"),
    "slot.updated": _l("Half-day changed: %(slot)s"),
    "slot.deleted": _l("Half-day deleted from %(session)s"),
    "slot.signing_closed": _l("Signing closed early on %(slot)s"),
    "slot.signed_off": _l("Half-day signed off: %(slot)s"),
    "slot.kiosk_opened": _l("Facilitator's device mode opened on %(slot)s"),
    "slot.kiosk_closed": _l("Facilitator's device mode closed on %(slot)s"),
    "task.retried": _l("Background task started again"),
    "training.created": _l("Training created: %(training)s"),
    "training.updated": _l("Training changed: %(training)s"),
    "training.duplicated": _l("Training duplicated: %(training)s"),
    "training.archived": _l("Training archived: %(training)s"),
    "training.unarchived": _l("Training restored: %(training)s"),
    "user.invited": _l("User invited: %(user)s"),
    "user.invitation_accepted": _l("Invitation accepted by %(user)s"),
    "user.email_verified": _l("Email address confirmed by %(user)s"),
    "user.login": _l("Logged in: %(user)s"),
    "user.logout": _l("Logged out: %(user)s"),
    "user.login_ended": _l("A login ended for %(user)s"),
    "user.other_logins_ended": _l("Other logins ended by %(user)s"),
    "user.password_changed": _l("Password changed by %(user)s"),
    "user.password_reset_requested": _l("Password reset asked for %(user)s"),
    "user.password_reset": _l("Password reset by %(user)s"),
    "user.preferences_changed": _l("Preferences changed by %(user)s"),
    "user.role_changed": _l("Role changed for %(user)s"),
    "user.activated": _l("Account reactivated: %(user)s"),
    "user.deactivated": _l("Account deactivated: %(user)s"),
    "user.data_exported": _l("Personal data of %(user)s exported"),
}

# The object's table → the placeholder it fills.
OBJECT_KINDS = {
    "participants": "participant",
    "users": "user",
    "training_sessions": "session",
    "slots": "slot",
    "trainings": "training",
    "documents": "document",
    "messages": "message",
    "sign_in_links": "link",
}
# Ids an event's details carry → the placeholder they fill.
DETAIL_KINDS = {
    "participant_id": "participant",
    "participant_ids": "participant",
    "user_id": "user",
    "user_ids": "user",
    "session_id": "session",
    "slot_id": "slot",
    "training_id": "training",
}
# An action's family, for the filter: "attendance.signed" is in "attendance".
FAMILIES = {
    "attendance": _l("Attendance"),
    "session": _l("Sessions"),
    "slot": _l("Half-days"),
    "training": _l("Trainings"),
    "participant": _l("Participants"),
    "participants": _l("Participants"),
    "enrollment": _l("Enrollments"),
    "signin_link": _l("Sign-in links"),
    "document": _l("Documents"),
    "paper_sheet": _l("Documents"),
    "message": _l("Messages"),
    "user": _l("Users and logins"),
    "organization": _l("Settings"),
    "support_grant": _l("Settings"),
    "support_session": _l("Settings"),
    "audit": _l("Audit trail"),
    "task": _l("Background tasks"),
    "rights_request": _l("Personal-data requests"),
    "justification": _l("Attendance"),
}
SHOWN_NAMES = 3


def action_label(action: str) -> str:
    """The action alone, without its objects ("Signed", for the filter): the phrase with blanks."""
    phrase = ACTIONS.get(action)
    if phrase is None:
        return action
    return str(phrase) % defaultdict(lambda: "…")


def action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """(family label, [(action, label)]) for the filter's select, in the reader's language."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for action in ACTIONS:
        groups[str(FAMILIES.get(action.split(".")[0], action))].append((action, action_label(action)))
    return sorted((family, sorted(items, key=lambda i: i[1])) for family, items in groups.items())


@dataclass(frozen=True)
class Ref:
    label: str
    url: str | None = None

    def html(self) -> Markup:
        if self.url:
            return Markup('<a href="{}">{}</a>').format(self.url, self.label)
        return escape(self.label)


@dataclass
class Line:
    event: AuditEvent
    actor: Markup
    text: Markup
    known: bool


def _ids(events: Iterable[AuditEvent]) -> dict[str, set[int]]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for event in events:
        kind = OBJECT_KINDS.get(event.object_type or "")
        if kind and event.object_id is not None:
            wanted[kind].add(event.object_id)
        for key, kind in DETAIL_KINDS.items():
            value = (event.details or {}).get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, int):
                    wanted[kind].add(item)
        if event.actor_user_id is not None:
            wanted["user"].add(event.actor_user_id)
        if event.actor_participant_id is not None:
            wanted["participant"].add(event.actor_participant_id)
    return wanted


def _slot_label(slot: Slot) -> str:
    tz = slot.session.timezone
    return "{title}, {day} {start}–{end}".format(
        title=slot.session.training.title,
        day=local_datetime(slot.starts_at, "medium_date", tz),
        start=local_datetime(slot.starts_at, "HH:mm", tz),
        end=local_datetime(slot.ends_at, "HH:mm", tz),
    )


def _session_label(session: TrainingSession) -> str:
    return f"{session.training.title}, {format_date(session.start_date)}"


def _load(wanted: dict[str, set[int]]) -> dict[str, dict[int, Ref]]:
    """One query per kind of object named on the page."""
    found: dict[str, dict[int, Ref]] = defaultdict(dict)
    links = {}
    if wanted.get("link"):
        links = {
            link.id: link
            for link in db.session.scalars(select(SignInLink).where(SignInLink.id.in_(wanted["link"])))
        }
        for link in links.values():
            if link.participant_id is not None:
                wanted["participant"].add(link.participant_id)
            if link.user_id is not None:
                wanted["user"].add(link.user_id)
    if wanted.get("participant"):
        for p in db.session.scalars(select(Participant).where(Participant.id.in_(wanted["participant"]))):
            found["participant"][p.id] = Ref(p.full_name, url_for("participants.show", participant_id=p.id))
    if wanted.get("user"):
        for u in db.session.scalars(select(User).where(User.id.in_(wanted["user"]))):
            found["user"][u.id] = Ref(u.full_name, url_for("accounts.edit_user", user_id=u.id))
    if wanted.get("session"):
        for s in db.session.scalars(
            select(TrainingSession)
            .options(joinedload(TrainingSession.training))
            .where(TrainingSession.id.in_(wanted["session"]))
        ):
            found["session"][s.id] = Ref(_session_label(s), url_for("trainings.session", session_id=s.id))
    if wanted.get("slot"):
        for slot in db.session.scalars(
            select(Slot)
            .options(joinedload(Slot.session).joinedload(TrainingSession.training))
            .where(Slot.id.in_(wanted["slot"]))
        ):
            found["slot"][slot.id] = Ref(_slot_label(slot), url_for("signing.slot_live", slot_id=slot.id))
    if wanted.get("training"):
        for t in db.session.scalars(select(Training).where(Training.id.in_(wanted["training"]))):
            found["training"][t.id] = Ref(t.title, url_for("trainings.show", training_id=t.id))
    if wanted.get("document"):
        for d in db.session.scalars(select(Document).where(Document.id.in_(wanted["document"]))):
            found["document"][d.id] = Ref(
                f"{kind_label(d.kind)} — {d.filename}", url_for("documents.download", document_id=d.id)
            )
    if wanted.get("message"):
        for m in db.session.scalars(select(Message).where(Message.id.in_(wanted["message"]))):
            found["message"][m.id] = Ref(
                m.recipient_name or m.recipient, url_for("messages.show", message_id=m.id)
            )
    for link_id, link in links.items():
        holder = (
            found["participant"].get(link.participant_id)
            if link.participant_id is not None
            else found["user"].get(link.user_id)
        )
        if holder is not None:
            found["link"][link_id] = holder
    return found


def _gone(kind: str, ident: int) -> Ref:
    return Ref(str(_l("#%(id)s (deleted)", id=ident)))


def _names(refs: list[Ref]) -> Markup:
    shown = Markup(", ").join(ref.html() for ref in refs[:SHOWN_NAMES])
    if len(refs) > SHOWN_NAMES:
        more = len(refs) - SHOWN_NAMES
        shown += Markup(" ") + escape(ngettext("and %(num)d more", "and %(num)d more", more))
    return shown


def _fill(event: AuditEvent, found: dict[str, dict[int, Ref]]) -> dict[str, Markup]:
    refs: dict[str, list[Ref]] = defaultdict(list)

    def add(kind: str, ident: int) -> None:
        ref = found[kind].get(ident) or _gone(kind, ident)
        if ref not in refs[kind]:
            refs[kind].append(ref)

    kind = OBJECT_KINDS.get(event.object_type or "")
    if kind and event.object_id is not None:
        add(kind, event.object_id)
    for key, detail_kind in DETAIL_KINDS.items():
        value = (event.details or {}).get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, int):
                add(detail_kind, item)
    # A link names its holder; several people read as a list.
    people: list[Ref] = []
    for ref in refs["participant"] + refs["link"]:
        if ref not in people:
            people.append(ref)
    values = {name: _names(items) for name, items in refs.items() if items}
    values["participants"] = _names(people) if people else Markup("—")
    values.setdefault("participant", values["participants"])
    if "user" not in values and event.actor_user_id is not None:
        values["user"] = (found["user"].get(event.actor_user_id) or _gone("user", event.actor_user_id)).html()
    return values


def _actor(event: AuditEvent, found: dict[str, dict[int, Ref]]) -> Markup:
    if event.actor_user_id is not None and event.actor_user_id in found["user"]:
        who = found["user"][event.actor_user_id].html()
        if event.actor_kind == STAFF:
            # Both identities: the staff member acted, on behalf of the user.
            staff = db.session.get(Staff, event.actor_staff_id) if event.actor_staff_id else None
            return Markup("{} ({})").format(
                who,
                _l("Emarge support: %(name)s", name=staff.name) if staff else _l("Emarge support"),
            )
        return who
    if event.actor_kind == STAFF and event.actor_staff_id:
        staff = db.session.get(Staff, event.actor_staff_id)
        return escape(_l("Emarge support: %(name)s", name=staff.name) if staff else _l("Emarge support"))
    if event.actor_participant_id is not None and event.actor_participant_id in found["participant"]:
        return found["participant"][event.actor_participant_id].html()
    if event.actor_kind == SYSTEM:
        return escape(_l("Emarge (automatic)"))
    return escape(event.actor_label)


def describe(events: list[AuditEvent]) -> list[Line]:
    found = _load(_ids(events))
    lines = []
    for event in events:
        phrase = ACTIONS.get(event.action)
        if phrase is None:
            text, known = Markup("<code>{}</code>").format(event.action), False
        else:
            values = defaultdict(lambda: Markup("—"), _fill(event, found))
            text, known = escape(str(phrase)) % values, True
        lines.append(Line(event=event, actor=_actor(event, found), text=text, known=known))
    return lines
