"""How long each kind of data is kept: every retention period of the product, defined once, here.

``PERIODS`` is the registry: each period says what it keeps, how long, what happens at its end, and which
periodic job (``jobs.SCHEDULE``) enforces it. Everything that states a period is written from it: the retention
page (``/privacy/retention``), the privacy policy's section on retention (a change of a period here publishes a
new version of the policy, ``blueprints/privacy/policy_versions.sync_retention``), and each organization's
record of processing (``blueprints/privacy/processing.py``). The code that deletes reads the same values through
the names below the registry. (Cookie lifetimes are in ``blueprints/privacy/cookies.py``, the registry the
cookie policy is written from.)

The texts are the policy's own words, in both languages, like the policy they are copied into: they are
published text, not interface strings.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

HOURS, DAYS, MONTHS, YEARS = "hours", "days", "months", "years"

# How the interval reads, singular and plural, in each language.
_UNITS = {
    "fr": {
        HOURS: ("heure", "heures"),
        DAYS: ("jour", "jours"),
        MONTHS: ("mois", "mois"),
        YEARS: ("an", "ans"),
    },
    "en": {
        HOURS: ("hour", "hours"),
        DAYS: ("day", "days"),
        MONTHS: ("month", "months"),
        YEARS: ("year", "years"),
    },
}

# Whose data a period is about, as the retention page groups them.
ORGANIZATION = "organization"  # the data an organization enters (Emarge is its processor)
ACCOUNTS = "accounts"  # the accounts of the people who sign in, and their links
PLATFORM = "platform"  # what Emarge keeps for itself (Emarge is the controller)
GROUPS = (ORGANIZATION, ACCOUNTS, PLATFORM)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved by ``months`` calendar months (negative: back), on the same day or the month's last."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    key: str
    amount: int
    unit: str
    group: str
    # What is kept (a noun phrase) and what happens at the end of the period (from when it runs, what goes).
    data_fr: str
    data_en: str
    end_fr: str
    end_en: str
    # The name of the periodic job that enforces it, in ``jobs.SCHEDULE``.
    job: str

    @property
    def delta(self) -> timedelta:
        """The period as a fixed interval (hours and days only: months and years are calendar periods)."""
        if self.unit == HOURS:
            return timedelta(hours=self.amount)
        if self.unit == DAYS:
            return timedelta(days=self.amount)
        raise TypeError(f"{self.key} is counted in {self.unit}: use before() or after()")

    def after(self, moment: datetime) -> datetime:
        if self.unit in (HOURS, DAYS):
            return moment + self.delta
        return add_months(moment, self.amount * (12 if self.unit == YEARS else 1))

    def before(self, moment: datetime) -> datetime:
        """The cut-off at ``moment``: what is older is past the period."""
        if self.unit in (HOURS, DAYS):
            return moment - self.delta
        return add_months(moment, -self.amount * (12 if self.unit == YEARS else 1))

    def words(self, language: str) -> str:
        return words(self.amount, self.unit, language)

    def data(self, language: str) -> str:
        return self.data_en if language == "en" else self.data_fr

    def end(self, language: str) -> str:
        return self.end_en if language == "en" else self.end_fr


def words(amount: int, unit: str, language: str) -> str:
    singular, plural = _UNITS["en" if language == "en" else "fr"][unit]
    return f"{amount}\u00a0{singular if amount == 1 else plural}"


_REGISTRY = (
    # --- the organization's data -----------------------------------------------------------------------------
    Period(
        "end_of_service",
        3,
        YEARS,
        ORGANIZATION,
        "Toutes les données d'un organisme : stagiaires, formations, présences, signatures, documents, journal"
        " d'audit, fichiers",
        "All of an organization's data: trainees, trainings, attendance, signatures, documents, audit trail, files",
        "après la fin du service (la clôture du compte), ou moins si l'organisme l'a choisi : tout est alors"
        " supprimé, y compris les justificatifs conservés pour un financeur. Les administrateurs sont prévenus"
        " 30 et 7 jours avant et peuvent emporter l'archive complète.",
        "after the end of the service (the account's closing), or less if the organization chose so: everything"
        " is then deleted, the evidence kept for a funder included. Administrators are warned 30 and 7 days"
        " before and can take the full archive.",
        "retention",
    ),
    Period(
        "deletion_grace",
        7,
        DAYS,
        ORGANIZATION,
        "Un organisme dont un administrateur a demandé la suppression",
        "An organization whose deletion an administrator asked for",
        "après la demande, pendant lesquels tout administrateur peut l'annuler ; puis tout est supprimé.",
        "after the request, during which any administrator can undo it; then everything is deleted.",
        "retention",
    ),
    Period(
        "audit_trail",
        12,
        MONTHS,
        ORGANIZATION,
        "Le journal d'audit de l'organisme (qui a fait quoi, adresse IP, navigateur, langue, date et heure)",
        "The organization's audit trail (who did what, IP address, browser, language, date and time)",
        "après chaque événement, puis l'événement est supprimé.",
        "after each event, then the event is deleted.",
        "purge-logs",
    ),
    Period(
        "message_log",
        12,
        MONTHS,
        ORGANIZATION,
        "Le journal des e-mails et SMS envoyés (destinataire, objet, contenu, état de la remise)",
        "The log of emails and text messages sent (recipient, subject, content, delivery state)",
        "après l'envoi, puis l'entrée est supprimée.",
        "after sending, then the entry is deleted.",
        "purge-logs",
    ),
    Period(
        "task_files",
        7,
        DAYS,
        ORGANIZATION,
        "Les fichiers produits par un export (présences, journal d'audit, données d'une personne, archive"
        " complète)",
        "The files an export makes (attendance, audit trail, a person's data, the full archive)",
        "après leur création, puis le fichier est supprimé.",
        "after they are made, then the file is deleted.",
        "purge-stale-files",
    ),
    Period(
        "import_upload",
        24,
        HOURS,
        ORGANIZATION,
        "Un fichier CSV envoyé pour un import jamais confirmé",
        "A CSV file uploaded for an import never confirmed",
        "après son envoi, puis il est supprimé (un import confirmé supprime aussitôt son fichier).",
        "after it was uploaded, then it is deleted (a confirmed import deletes its file at once).",
        "purge-stale-files",
    ),
    Period(
        "absence_proofs",
        12,
        MONTHS,
        ORGANIZATION,
        "Les justificatifs d'absence (un certificat médical peut être une donnée de santé : administrateurs"
        " seulement)",
        "Proofs of absence (a medical certificate may be health data: administrators only)",
        "après la fin de leur session, ou plus si l'organisme l'a choisi, puis le justificatif est supprimé ; la"
        " justification elle-même reste.",
        "after their session ended, or longer if the organization chose so, then the proof is deleted; the"
        " justification itself stays.",
        "purge-absence-proofs",
    ),
    Period(
        "sms_receipts",
        30,
        DAYS,
        ORGANIZATION,
        "Les accusés de remise des SMS",
        "Text message delivery receipts",
        "après leur réception (pour refuser un rejeu), puis ils sont supprimés.",
        "after they arrive (to refuse a replay), then they are deleted.",
        "purge-ended-logins",
    ),
    # --- accounts and links ----------------------------------------------------------------------------------
    Period(
        "sign_in_links",
        30,
        DAYS,
        ACCOUNTS,
        "Les liens personnels de signature des stagiaires et formateurs",
        "Trainees' and facilitators' personal signing links",
        "après leur expiration (la fin de la session et son délai de grâce) ou leur retrait : un clic tardif"
        " entend « expiré » et peut demander un nouveau lien ; puis le lien est supprimé.",
        'after they expire (the session\'s end and its grace) or are withdrawn: a late click hears "expired"'
        " and can ask for a new link; then the link is deleted.",
        "purge-account-tokens",
    ),
    Period(
        "account_tokens",
        7,
        DAYS,
        ACCOUNTS,
        "Les liens à usage unique (confirmation d'adresse, nouveau mot de passe, invitation)",
        "One-time links (address confirmation, password reset, invitation)",
        "après leur expiration, puis ils sont supprimés.",
        "after they expire, then they are deleted.",
        "purge-account-tokens",
    ),
    Period(
        "login_idle",
        24,
        HOURS,
        ACCOUNTS,
        "Les enregistrements de session (une connexion sur un navigateur : date, adresse IP, navigateur)",
        "Session records (one signed-in browser: date, IP address, browser)",
        "sans activité, puis la session prend fin et son enregistrement est supprimé ; avec « Se souvenir de"
        " moi », la session dure autant que son cookie (365 jours au plus).",
        'without activity, then the session ends and its record is deleted; with "Remember me", the session'
        " lasts as long as its cookie (365 days at most).",
        "purge-ended-logins",
    ),
    Period(
        "unconfirmed_organization",
        7,
        DAYS,
        ACCOUNTS,
        "Un organisme inscrit dont l'adresse e-mail n'a jamais été confirmée",
        "An organization signed up whose email address was never confirmed",
        "après l'inscription, puis il est supprimé entièrement.",
        "after signing up, then it is deleted entirely.",
        "drop-unconfirmed-organizations",
    ),
    # --- what Emarge keeps for itself ------------------------------------------------------------------------
    Period(
        "staff_login_idle",
        12,
        HOURS,
        PLATFORM,
        "Les sessions de l'équipe Emarge",
        "The Emarge team's sessions",
        "sans activité, puis la session prend fin et son enregistrement est supprimé.",
        "without activity, then the session ends and its record is deleted.",
        "purge-ended-staff-logins",
    ),
    Period(
        "platform_logs",
        12,
        MONTHS,
        PLATFORM,
        "Les journaux techniques d'Emarge : actions de l'équipe, accès du support aux comptes et leur détail",
        "Emarge's technical logs: the team's actions, support access to accounts and its details",
        "après chaque entrée (l'accès terminé, pour le support), puis elle est supprimée.",
        "after each entry (once the access ended, for support), then it is deleted.",
        "purge-platform-logs",
    ),
    Period(
        "consent_proofs",
        13,
        MONTHS,
        PLATFORM,
        "Les preuves des choix de cookies (numéro aléatoire, catégories, versions, heure, adresse IP tronquée)",
        "Proofs of cookie choices (a random number, categories, versions, time, truncated IP address)",
        "après le choix, puis la preuve est supprimée.",
        "after the choice, then the proof is deleted.",
        "purge-platform-logs",
    ),
    Period(
        "audience_raw_events",
        13,
        MONTHS,
        PLATFORM,
        "Les événements bruts de mesure d'audience (avec votre accord seulement)",
        "Raw audience-measurement events (with your consent only)",
        "après l'événement, puis il est supprimé ; seuls des totaux par jour, sans identifiant, sont gardés.",
        "after the event, then it is deleted; only daily totals, with no identifier, are kept.",
        "purge-audience-events",
    ),
    Period(
        "diagnostics",
        90,
        DAYS,
        PLATFORM,
        "Les rapports d'erreur (collectés seulement en cas de dysfonctionnement, sans données personnelles)",
        "Error reports (collected only when something breaks, without personal data)",
        "après l'erreur, puis le rapport est supprimé.",
        "after the error, then the report is deleted.",
        "purge-diagnostics",
    ),
)

PERIODS: dict[str, Period] = {period.key: period for period in _REGISTRY}


def period(key: str) -> Period:
    return PERIODS[key]


def by_group() -> list[tuple[str, list[Period]]]:
    return [(group, [p for p in PERIODS.values() if p.group == group]) for group in GROUPS]


# --- the values the code reads ----------------------------------------------------------------------------------

UNCONFIRMED_ORGANIZATION = PERIODS["unconfirmed_organization"].delta
# A login without "remember me" ends after this long without a request (a remembered one lasts as long as its
# cookie, REMEMBER_LIFETIME); a staff login sooner: it opens every organization's directory.
LOGIN_IDLE = PERIODS["login_idle"].delta
STAFF_LOGIN_IDLE = PERIODS["staff_login_idle"].delta
SMS_RECEIPTS = PERIODS["sms_receipts"].delta
ACCOUNT_TOKENS_PAST_EXPIRY = PERIODS["account_tokens"].delta
SIGN_IN_LINKS_PAST_EXPIRY = PERIODS["sign_in_links"].delta
# Usable for the import's preview this long; the purge adds an hour's margin.
IMPORT_UPLOAD = PERIODS["import_upload"].delta
TASK_FILES = PERIODS["task_files"].delta
DIAGNOSTICS = PERIODS["diagnostics"].delta
AUDIENCE_RAW_EVENTS_MONTHS = PERIODS["audience_raw_events"].amount
DELETION_GRACE = PERIODS["deletion_grace"].delta
END_OF_SERVICE = PERIODS["end_of_service"]
END_OF_SERVICE_YEARS = END_OF_SERVICE.amount
# The 30- and 7-day warnings to admins before their organization is dropped.
END_OF_SERVICE_WARNINGS_DAYS = (30, 7)
# The shorter periods an organization may choose instead of the 3 years, in months (None keeps the 3 years).
END_OF_SERVICE_CHOICES_MONTHS = (24, 12, 6, 3, 1)
# The longer periods an organization may keep absence proofs, in months (12 by default: PERIODS["absence_proofs"]).
ABSENCE_PROOF_CHOICES_MONTHS = (12, 24, 36)
# How long an admin may keep a person's attendance evidence past an erasure, as their funders require.
EVIDENCE_HOLD_YEARS = (3, 6, 10)
