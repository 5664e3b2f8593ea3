"""What each area's help page says: what it does, the usual steps, what its statuses mean."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class HelpPage:
    title: object
    what: object
    steps: list = field(default_factory=list)
    statuses: list = field(default_factory=list)  # (term, meaning)
    admin_only: bool = False


PAGES = {
    "today": HelpPage(
        _l("Today"),
        _l(
            "The home page shows the half-days of today and of the next working day, with who has signed; "
            "administrators also see what needs action in the whole organization."
        ),
        [
            _l("Open a half-day's live page with one tap: the roster fills in as trainees sign."),
            _l(
                "Show the room code to the room, or hand your device to the trainees in the facilitator's device mode."
            ),
            _l("Once the half-day has ended, sign it off: this locks its attendance."),
        ],
        [
            (
                _l("Signing open"),
                _l("trainees can sign now, from their link or on the facilitator's device."),
            ),
            (
                _l("Signing closed"),
                _l(
                    "the half-day ended and its grace period is over; the facilitator can still record marks."
                ),
            ),
            (
                _l("Signed off: locked"),
                _l("the facilitator signed the half-day; only an administrator changes it, with a reason."),
            ),
        ],
    ),
    "signing": HelpPage(
        _l("Live attendance"),
        _l("The live page follows a half-day as it happens: who has signed, at what time and how."),
        [
            _l(
                "Trainees sign from the personal link they received; in the room, they also type or scan the room code."
            ),
            _l(
                "A trainee without a phone signs on your device: open the facilitator's device mode and hand it over."
            ),
            _l("Mark an absence, a late arrival or an early departure from the participant's row."),
            _l("Network down? Print the paper sheet, then upload it signed."),
            _l("At the end, sign the half-day off: those who have not signed are recorded absent."),
        ],
        [
            (_l("Not signed yet"), _l("the half-day is running or to come.")),
            (_l("Not signed"), _l("the half-day has ended without a signature; it is not signed off yet.")),
            (_l("Absent"), _l("marked absent, or not signed when the half-day was signed off.")),
            (_l("Present"), _l("signed within the signing window.")),
            (_l("Late"), _l("signed, with the minutes of lateness recorded.")),
            (_l("Excused absence"), _l("absent for a reason the facilitator or an administrator recorded.")),
        ],
    ),
    "participants": HelpPage(
        _l("Participants"),
        _l(
            "The directory of the people you train: their contact details, enrollments, attendance and documents."
        ),
        [
            _l("Add a participant, or import a CSV file exported from your spreadsheet."),
            _l("Enroll them in a session from the session's page, with who funds their training."),
            _l("Send the invitations: each participant receives their personal sign-in link."),
        ],
        [
            (_l("Archived"), _l("kept for your records, hidden from the lists and searches.")),
            (
                _l("Processing restricted"),
                _l("no message is sent and no new signature is taken, at the person's request."),
            ),
        ],
    ),
    "trainings": HelpPage(
        _l("Trainings and sessions"),
        _l(
            "A training is what you teach; a session is one run of it, with its dates, place and facilitators; "
            "half-days are what the trainees sign."
        ),
        [
            _l("Create the training once, with its title, objectives and planned hours."),
            _l("Add a session: its half-days are planned with it, skipping weekends and public holidays."),
            _l("Enroll the participants and send their invitations from the session's page."),
        ],
        [(_l("Archived"), _l("a training or session kept for your records, hidden from the lists."))],
    ),
    "messages": HelpPage(
        _l("Messages"),
        _l("Every email and text message sent to participants and users, and what became of it."),
        [
            _l(
                "Invitations are sent from a session's page; reminders go out by themselves if your settings ask for them."
            ),
            _l("A message that failed can be sent again, one by one or all at once."),
        ],
        [
            (_l("Pending"), _l("written, waiting for its turn.")),
            (_l("Sent"), _l("handed to the mail or text-message provider.")),
            (_l("Delivered"), _l("the provider confirmed delivery.")),
            (_l("Failed"), _l("could not be delivered: the provider's answer says why.")),
        ],
    ),
    "documents": HelpPage(
        _l("Documents"),
        _l(
            "Attendance sheets and certificates of completion, made from the recorded attendance and sealed: each "
            "has a verification code that a funder or an auditor can check."
        ),
        [
            _l("Open a session's documents page and make the sheets or the certificates."),
            _l("Certificates can be emailed to each participant, with the document attached."),
            _l("A document made again gets a new version; earlier versions are kept."),
        ],
    ),
    "audit": HelpPage(
        _l("Audit trail"),
        _l("Every change in your organization: who made it, when and from where."),
        [
            _l("Filter by participant, by who made the change, by action or by period."),
            _l("Export the trail as CSV: it gives each event with its codes, as stored."),
        ],
        admin_only=True,
    ),
    "users": HelpPage(
        _l("Users"),
        _l("The people of your organization who use Emarge: administrators and facilitators."),
        [
            _l("Invite a user by email: they choose their password from the link they receive."),
            _l("Assign facilitators to sessions: they see only those sessions and their participants."),
            _l("Deactivate an account when someone leaves: their history stays."),
        ],
        [
            (_l("Administrator"), _l("sees and manages everything in the organization.")),
            (_l("Facilitator"), _l("runs the sessions assigned to them.")),
        ],
        admin_only=True,
    ),
    "tracking": HelpPage(
        _l("Attendance tracking"),
        _l(
            "Who missed what, how each session is going, what an auditor would question, and the figures your "
            "funders ask for."
        ),
        [
            _l(
                "A session's grid shows each trainee's half-days, the rate of each half-day and who is at risk."
            ),
            _l("A trainee's page gives their rates, hours, lateness and absences, session by session."),
            _l(
                "Absences are followed up on sessions over 2 days: the trainee is asked why, then the "
                "administrators and the employer contact are warned; an administrator accepts or refuses each "
                "justification."
            ),
            _l(
                "The reports give the organization's attendance over a period, the funders' figures and the anomalies."
            ),
        ],
        [
            (
                _l("Rate"),
                _l(
                    "minutes attended over minutes planned, over the half-days that have ended, rounded down."
                ),
            ),
            (_l("Absent"), _l("counted once the facilitator has signed the half-day off.")),
            (_l("Excused"), _l("an absence whose justification an administrator accepted.")),
            (
                _l("At risk"),
                _l(
                    "the threshold can no longer be reached, the rate so far is under it, or absences in a row."
                ),
            ),
        ],
    ),
    "settings": HelpPage(
        _l("Settings"),
        _l(
            "Your organization's identity on its documents, its half-day times, language and timezone, and how sign-in links are sent."
        ),
        [
            _l("Fill in the identity (name, address, declaration number, signature) shown on the documents."),
            _l("Set the usual morning and afternoon times used to plan the half-days."),
            _l("Choose how links reach the trainees: email, text message, or both."),
        ],
        admin_only=True,
    ),
}

# The area of each blueprint's pages, for the "Help" link.
BLUEPRINT_AREAS = {
    "today": "today",
    "search": "today",
    "signing": "signing",
    "participants": "participants",
    "trainings": "trainings",
    "messages": "messages",
    "documents": "documents",
    "audit": "audit",
    "settings": "settings",
    "tracking": "tracking",
}
ENDPOINT_AREAS = {"accounts.users": "users", "accounts.edit_user": "users"}


def area_of(endpoint: str | None, blueprint: str | None) -> str:
    return ENDPOINT_AREAS.get(endpoint or "") or BLUEPRINT_AREAS.get(blueprint or "") or "today"
