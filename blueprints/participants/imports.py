"""Importing participants from a CSV file: read it whatever Excel wrote, map its columns, check every line,
then upsert by email in one transaction.

Email is required on every line: it is how a later import of the same people finds them again instead of
duplicating them. Blank cells never erase what the directory already holds.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from blueprints.audit.services import Actor, record
from blueprints.participants import services
from blueprints.participants.models import FUNDERS, Enrollment, Participant
from blueprints.participants.services import ParticipantError
from blueprints.shared.cells import FORMULA_START
from blueprints.signing.signin_links import issue_links
from blueprints.trainings.models import TrainingSession
from tenants.db import db

MAX_BYTES = 5 * 1024 * 1024
# Above this many data lines the import runs as a background job with a progress bar.
IN_REQUEST_ROWS = 300
BATCH = 500

FIELDS = ("civility", "first_name", "last_name", "email", "mobile", "company", "job_title", "language")
REQUIRED = ("first_name", "last_name", "email")
MAX_LENGTH = {"first_name": 100, "last_name": 100, "company": 200, "job_title": 200}

# Header names as people write them, compared without accents, case, spaces or punctuation.
SYNONYMS = {
    "civility": ("civilite", "civility", "titre", "title", "salutation", "genre"),
    "first_name": ("prenom", "firstname", "first", "givenname", "forename"),
    "last_name": ("nom", "lastname", "nomdefamille", "surname", "familyname", "name", "last", "nomdusage"),
    "email": (
        "email",
        "mail",
        "courriel",
        "adresseemail",
        "adressemail",
        "emailaddress",
        "adressecourriel",
        "adresseelectronique",
        "mel",
    ),
    "mobile": (
        "telephone",
        "tel",
        "portable",
        "mobile",
        "telephoneportable",
        "telportable",
        "phone",
        "mobilephone",
        "cellphone",
        "gsm",
        "numerodetelephone",
        "telephonemobile",
        "phonenumber",
    ),
    "company": (
        "societe",
        "entreprise",
        "company",
        "employeur",
        "employer",
        "organisation",
        "organization",
        "raisonsociale",
        "structure",
    ),
    "job_title": ("fonction", "jobtitle", "poste", "job", "position", "metier", "intituledeposte", "role"),
    "language": ("langue", "language", "lang", "languepreferee", "preferredlanguage"),
}

CIVILITIES = {
    "m": "m",
    "mr": "m",
    "monsieur": "m",
    "mister": "m",
    "mme": "mme",
    "madame": "mme",
    "mrs": "mme",
    "ms": "mme",
    "mlle": "mme",
    "mademoiselle": "mme",
    "miss": "mme",
}
LANGUAGES = {"fr": "fr", "francais": "fr", "french": "fr", "en": "en", "anglais": "en", "english": "en"}


class ImportProblem(Exception):
    """The file as a whole cannot be imported; ``str()`` says why, for the person who sent it."""


def field_labels() -> dict[str, str]:
    return {
        "civility": _l("Civility"),
        "first_name": _l("First name"),
        "last_name": _l("Last name"),
        "email": _l("Email"),
        "mobile": _l("Mobile phone"),
        "company": _l("Company"),
        "job_title": _l("Job title"),
        "language": _l("Preferred language"),
    }


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", text)


# --- reading -------------------------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """The text of the file and the encoding found: UTF-8 (with or without BOM), UTF-16 with BOM, or
    Windows-1252, which French Excel writes by default."""
    if not data.strip():
        raise ImportProblem(_l("The file is empty."))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break  # a binary file (a spreadsheet saved as .xlsx, a PDF…), not text
        return text, encoding
    raise ImportProblem(
        _l(
            "This file cannot be read as a CSV file. In Excel, use “Save as” and choose “CSV UTF-8 (comma "
            "delimited)” or “CSV (semicolon delimited)”, then send that file."
        )
    )


def sniff_delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        # One line, or quotes that confuse the sniffer: the separator the header uses most.
        counts = {d: first.count(d) for d in (";", ",", "\t")}
        best = max(counts, key=counts.get)
        return best if counts[best] else ";"


def _unneutralise(cell: str) -> str:
    # Our own exports prefix formula-like cells with an apostrophe; take it off so a round trip is lossless.
    if cell.startswith("'") and cell[1:2] and cell[1:].startswith(FORMULA_START):
        return cell[1:]
    return cell


@dataclass
class Parsed:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)
    encoding: str
    delimiter: str


def parse(data: bytes) -> Parsed:
    if len(data) > MAX_BYTES:
        raise ImportProblem(_l("The file is larger than 5 MB. Split it into smaller files."))
    text, encoding = decode(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            line = reader.line_num
            cells = [_unneutralise(c.strip()) for c in cells]
            if not any(cells):
                continue
            if header is None:
                header = cells
            else:
                rows.append((line, cells))
    except csv.Error as error:
        raise ImportProblem(
            _l(
                "The file is not valid CSV near line %(line)d: %(reason)s",
                line=reader.line_num,
                reason=str(error),
            )
        ) from None
    if header is None:
        raise ImportProblem(_l("The file is empty."))
    return Parsed(header=header, rows=rows, encoding=encoding, delimiter=delimiter)


def guess_mapping(header: list[str]) -> dict[int, str]:
    """Column index → field, from the header names; each field taken by its first matching column."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    keys = [_key(h) for h in header]
    # Exact names first, so "Nom" goes to the last name even when "Nom de l'entreprise" comes before it.
    for exact in (True, False):
        for index, key in enumerate(keys):
            if index in mapping or not key:
                continue
            for name, synonyms in SYNONYMS.items():
                if name in taken:
                    continue
                if (key in synonyms) if exact else any(key.startswith(s) for s in synonyms if len(s) > 3):
                    mapping[index] = name
                    taken.add(name)
                    break
    return mapping


def mapping_problems(mapping: dict[int, str]) -> list[str]:
    labels = field_labels()
    problems = []
    fields = list(mapping.values())
    for name in sorted(set(fields)):
        if fields.count(name) > 1:
            problems.append(str(_l("Two columns are read as %(field)s: keep one.", field=labels[name])))
    if "email" not in fields:
        problems.append(
            str(
                _l(
                    "No column holds the email address. Emarge needs each participant's email to recognise "
                    "them when a file is imported again: choose the email column below, or add one to the file."
                )
            )
        )
    for name in ("first_name", "last_name"):
        if name not in fields:
            problems.append(str(_l("No column holds the %(field)s: choose it below.", field=labels[name])))
    return problems


# --- checking ------------------------------------------------------------------------------------------------


@dataclass
class Line:
    number: int
    values: dict[str, str | None]


@dataclass
class Checked:
    valid: list[Line] = field(default_factory=list)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line number, reasons)


def _check_line(values: dict[str, str | None]) -> tuple[dict, list[str]]:
    reasons: list[str] = []
    clean = dict(values)
    labels = field_labels()
    for name in REQUIRED:
        if not values.get(name):
            reasons.append(str(_l("%(field)s is missing", field=labels[name])))
    for name, limit in MAX_LENGTH.items():
        if values.get(name) and len(values[name]) > limit:
            reasons.append(str(_l("%(field)s is longer than %(n)d characters", field=labels[name], n=limit)))
    if values.get("email"):
        try:
            clean["email"] = services.normalize_email(values["email"])
        except ParticipantError:
            reasons.append(str(_l("malformed email address “%(value)s”", value=values["email"])))
    if values.get("mobile"):
        try:
            clean["mobile"] = services.normalize_phone(values["mobile"])
        except ParticipantError:
            reasons.append(str(_l("phone number not recognised “%(value)s”", value=values["mobile"])))
    if values.get("civility"):
        civility = CIVILITIES.get(_key(values["civility"]))
        if civility is None:
            reasons.append(
                str(_l("civility not recognised “%(value)s” (M. or Mme)", value=values["civility"]))
            )
        clean["civility"] = civility
    if values.get("language"):
        language = LANGUAGES.get(_key(values["language"]))
        if language is None:
            reasons.append(
                str(_l("language not recognised “%(value)s” (fr or en)", value=values["language"]))
            )
        clean["language"] = language
    return clean, reasons


def check(parsed: Parsed, mapping: dict[int, str]) -> Checked:
    """Every line, valid or with the reasons it is not: the preview shows both, the import takes the valid."""
    result = Checked()
    first_seen: dict[str, int] = {}
    for number, cells in parsed.rows:
        values = {name: None for name in FIELDS}
        for index, name in mapping.items():
            if index < len(cells):
                values[name] = cells[index] or None
        clean, reasons = _check_line(values)
        email = clean.get("email")
        if email and not reasons:
            if email in first_seen:
                reasons.append(str(_l("same email as line %(line)d", line=first_seen[email])))
            else:
                first_seen[email] = number
        if reasons:
            result.invalid.append((number, "; ".join(reasons)))
        else:
            result.valid.append(Line(number, clean))
    return result


# --- importing -----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    enrolled: int = 0
    skipped: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def upsert(line: Line, existing: Participant | None, actor: Actor, language: str) -> tuple[Participant, str]:
    """Create the participant of ``line`` (added, not yet flushed) or update the one with its email:
    'created', 'updated' or 'unchanged'. Blank cells leave what is stored. Values are already checked."""
    data = {name: value for name, value in line.values.items() if value is not None}
    if existing is None:
        participant = Participant(**{"language": language, **data})
        db.session.add(participant)
        return participant, "created"
    changed = [name for name, value in data.items() if getattr(existing, name) != value]
    changes = {name: [getattr(existing, name), data[name]] for name in changed}
    for name in changed:
        setattr(existing, name, data[name])
    if changed:
        record(actor, "participant.updated", existing, fields=changed, changes=changes, source="import")
    return existing, "updated" if changed else "unchanged"


def run_import(
    lines: list[Line],
    actor: Actor,
    *,
    session: TrainingSession | None = None,
    funder: str | None = None,
    skipped: int = 0,
    progress: Callable[[int, int], None] | None = None,
    language: str = "fr",
) -> Outcome:
    """Upsert ``lines`` (already checked) by email, enrolling each in ``session`` if given; a line without a
    language gets ``language`` (the organization's). Flushes by batch; the caller commits once, so a failure
    halfway leaves the directory as it was."""
    funder = funder or "employer"
    if funder not in FUNDERS:
        raise ImportProblem(_l("Unknown funder."))
    outcome = Outcome(skipped=skipped)
    total = len(lines)
    for start in range(0, total, BATCH):
        batch = lines[start : start + BATCH]
        emails = [line.values["email"] for line in batch]
        known = {
            p.email.lower(): p
            for p in db.session.scalars(select(Participant).where(func.lower(Participant.email).in_(emails)))
        }
        enrolled: set[int] = set()
        if session is not None and known:
            enrolled = set(
                db.session.scalars(
                    select(Enrollment.participant_id).where(
                        Enrollment.session_id == session.id,
                        Enrollment.participant_id.in_([p.id for p in known.values()]),
                    )
                )
            )
        created, touched = [], []
        for line in batch:
            participant, what = upsert(line, known.get(line.values["email"]), actor, language)
            setattr(outcome, what, getattr(outcome, what) + 1)
            touched.append(participant)
            if what == "created":
                created.append(participant)
        db.session.flush()  # one round trip for the batch's new rows, which gives them their ids
        for participant in created:
            record(actor, "participant.created", participant, source="import")
        if session is not None:
            added = [
                Enrollment(session_id=session.id, participant_id=p.id, funder=funder)
                for p in touched
                if p.archived_at is None and p.id not in enrolled
            ]
            db.session.add_all(added)
            db.session.flush()
            for enrollment in added:
                record(
                    actor,
                    "enrollment.created",
                    enrollment,
                    session_id=session.id,
                    participant_id=enrollment.participant_id,
                    funder=funder,
                    source="import",
                )
            outcome.enrolled += len(added)
            issue_links(session, actor, participant_ids=[e.participant_id for e in added])
        db.session.flush()
        if progress is not None:
            progress(min(start + BATCH, total), total)
    record(
        actor,
        "participants.imported",
        object_type="participants",
        session_id=session.id if session else None,
        **outcome.as_dict(),
    )
    return outcome


def summary(outcome: Outcome | dict) -> str:
    o = outcome if isinstance(outcome, dict) else outcome.as_dict()
    text = _l(
        "%(created)d added, %(updated)d updated, %(unchanged)d already up to date, %(skipped)d invalid lines "
        "skipped.",
        **{k: o[k] for k in ("created", "updated", "unchanged", "skipped")},
    )
    if o.get("enrolled"):
        return f"{text} " + str(_l("%(n)d enrolled in the session.", n=o["enrolled"]))
    return str(text)
