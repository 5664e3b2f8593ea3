"""The record of processing activities (GDPR article 30) of one organization, written from configuration.

For the data it enters, the organization is the controller and Emarge its processor: ``ACTIVITIES`` says, for
each processing Emarge performs for it, what is processed, why, on which legal basis, about whom, and which
periods of the registry (``tenants/retention.py``) apply. ``build`` joins them with the organization's own
identity, the period it chose after its end of service, and the platform's list of sub-processors, so the
record always says what the software does. Like the policy, the texts are published words in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenants.retention import END_OF_SERVICE, MONTHS, PERIODS, words

LEGAL_OBLIGATION, CONTRACT, LEGITIMATE_INTEREST = "legal_obligation", "contract", "legitimate_interest"
BASES = {
    LEGAL_OBLIGATION: ("Obligation légale (RGPD, art. 6.1.c)", "Legal obligation (GDPR, art. 6(1)(c))"),
    CONTRACT: ("Exécution d'un contrat (RGPD, art. 6.1.b)", "Performance of a contract (GDPR, art. 6(1)(b))"),
    LEGITIMATE_INTEREST: ("Intérêt légitime (RGPD, art. 6.1.f)", "Legitimate interest (GDPR, art. 6(1)(f))"),
}


@dataclass(frozen=True)
class Activity:
    key: str
    name: tuple[str, str]  # (fr, en), as every text below
    purpose: tuple[str, str]
    bases: tuple[str, ...]
    basis_detail: tuple[str, str]
    subjects: tuple[str, str]
    data: tuple[str, str]
    recipients: tuple[str, str]
    periods: tuple[str, ...]  # keys of tenants.retention.PERIODS


ACTIVITIES = (
    Activity(
        "attendance",
        ("Émargement et preuve de présence", "Attendance and its proof"),
        (
            "Recueillir la présence de chaque stagiaire à chaque demi-journée et sa signature, suivre les retards"
            " et absences, et garder la preuve de la réalisation de la formation pour les financeurs et les audits.",
            "Record each trainee's attendance and signature for each half-day, follow lateness and absences, and"
            " keep the proof that the training took place for funders and audits.",
        ),
        (LEGAL_OBLIGATION, CONTRACT),
        (
            "Justifier la réalisation de l'action de formation auprès de ses financeurs (Code du travail) ;"
            " exécution de la convention ou du contrat de formation.",
            "Proving to funders that the training took place (French Labour Code); performance of the training"
            " agreement or contract.",
        ),
        ("Stagiaires ; formateurs.", "Trainees; facilitators."),
        (
            "Nom, prénom, e-mail, téléphone, entreprise ; image de la signature, heure, statut de présence, retard"
            " et départ anticipé ; adresse IP, navigateur et langue au moment de signer.",
            "Name, first name, email, phone, company; the signature image, time, attendance status, lateness and"
            " early leaving; IP address, browser and language when signing.",
        ),
        (
            "Les administrateurs de l'organisme ; chaque formateur pour ses sessions ; les financeurs à qui"
            " l'organisme transmet ses feuilles.",
            "The organization's administrators; each facilitator for their sessions; the funders the organization"
            " sends its sheets to.",
        ),
        ("end_of_service",),
    ),
    Activity(
        "documents",
        ("Feuilles d'émargement et attestations", "Attendance sheets and certificates"),
        (
            "Produire les feuilles d'émargement scellées et les certificats de réalisation, vérifiables par leur"
            " code.",
            "Produce the sealed attendance sheets and the certificates of completion, verifiable by their code.",
        ),
        (LEGAL_OBLIGATION,),
        (
            "Remise au stagiaire d'une attestation à l'issue de la formation (Code du travail, art. L6353-1).",
            "A certificate handed to the trainee at the end of the training (French Labour Code, art. L6353-1).",
        ),
        (
            "Stagiaires ; formateurs ; représentant légal de l'organisme.",
            "Trainees; facilitators; the organization's legal representative.",
        ),
        (
            "Identité, présences et signatures du stagiaire ; signature du formateur et du représentant légal.",
            "The trainee's identity, attendance and signatures; the facilitator's and the legal representative's"
            " signatures.",
        ),
        (
            "Les administrateurs ; le stagiaire pour ses propres documents ; les financeurs et auditeurs à qui"
            " l'organisme les remet.",
            "Administrators; the trainee for their own documents; the funders and auditors the organization gives"
            " them to.",
        ),
        ("end_of_service", "task_files"),
    ),
    Activity(
        "absences",
        ("Suivi des absences", "Absence follow-up"),
        (
            "Suivre l'assiduité individuelle et collective, recueillir les justifications d'absence et prévenir"
            " le stagiaire, les administrateurs et le contact employeur des absences répétées (Qualiopi,"
            " indicateur 12).",
            "Track attendance individually and collectively, collect justifications of absence and tell the"
            " trainee, the administrators and the employer contact of repeated absences (Qualiopi, indicator 12).",
        ),
        (LEGITIMATE_INTEREST, LEGAL_OBLIGATION),
        (
            "Procédure de suivi des absences attendue des organismes certifiés Qualiopi ; justifier des"
            " réalisations partielles auprès des financeurs.",
            "The absence procedure expected of Qualiopi-certified organizations; justifying partial completion"
            " to funders.",
        ),
        ("Stagiaires ; contact employeur de l'inscription.", "Trainees; the enrolment's employer contact."),
        (
            "Absences et retards, motif et texte de la justification, justificatif (qui peut être une donnée de"
            " santé : administrateurs seulement, jamais les formateurs), étapes du suivi, nom et e-mail du contact"
            " employeur.",
            "Absences and lateness, the justification's reason and text, its proof (which may be health data:"
            " administrators only, never facilitators), the follow-up steps, the employer contact's name and"
            " email.",
        ),
        (
            "Les administrateurs ; le contact employeur pour les absences répétées non justifiées.",
            "Administrators; the employer contact for repeated unjustified absences.",
        ),
        ("absence_proofs", "message_log", "end_of_service"),
    ),
    Activity(
        "invitations",
        ("Liens de signature, convocations et rappels", "Signing links, invitations and reminders"),
        (
            "Envoyer à chacun son lien personnel de signature, les rappels avant chaque demi-journée et les"
            " documents, par e-mail ou par SMS.",
            "Send each person their personal signing link, the reminders before each half-day and the documents,"
            " by email or text message.",
        ),
        (CONTRACT,),
        (
            "Nécessaire à l'émargement prévu par la convention de formation ; le SMS seulement si la personne"
            " ne l'a pas refusé.",
            "Needed for the attendance the training agreement provides for; text messages only if the person did"
            " not refuse them.",
        ),
        ("Stagiaires ; formateurs.", "Trainees; facilitators."),
        (
            "Nom, e-mail, téléphone, contenu des messages, état de leur remise.",
            "Name, email, phone, the messages' content, their delivery state.",
        ),
        ("Les administrateurs de l'organisme.", "The organization's administrators."),
        ("sign_in_links", "message_log", "sms_receipts"),
    ),
    Activity(
        "users",
        ("Comptes des utilisateurs", "User accounts"),
        (
            "Permettre aux administrateurs et formateurs de se connecter, avec le rôle qui limite ce que chacun"
            " voit.",
            "Let administrators and facilitators sign in, with the role that limits what each one sees.",
        ),
        (CONTRACT,),
        ("Exécution du contrat de service avec Emarge.", "Performance of the service contract with Emarge."),
        ("Administrateurs ; formateurs.", "Administrators; facilitators."),
        (
            "Nom, prénom, e-mail, rôle, langue, empreinte du mot de passe (argon2id), sessions (date, adresse IP,"
            " navigateur).",
            "Name, first name, email, role, language, password hash (argon2id), sessions (date, IP address,"
            " browser).",
        ),
        ("Les administrateurs de l'organisme.", "The organization's administrators."),
        ("login_idle", "account_tokens"),
    ),
    Activity(
        "audit",
        ("Journal d'audit et sécurité", "Audit trail and security"),
        (
            "Prouver qui a fait quoi et quand, et protéger le service contre les abus et la fraude.",
            "Prove who did what and when, and protect the service from abuse and fraud.",
        ),
        (LEGITIMATE_INTEREST,),
        (
            "Intérêt légitime de l'organisme à prouver l'intégrité de ses feuilles et à sécuriser ses comptes.",
            "The organization's legitimate interest in proving its sheets' integrity and securing its accounts.",
        ),
        ("Utilisateurs ; stagiaires.", "Users; trainees."),
        (
            "Action réalisée, objet concerné, adresse IP, navigateur, langue, date et heure.",
            "Action taken, object concerned, IP address, browser, language, date and time.",
        ),
        ("Les administrateurs de l'organisme.", "The organization's administrators."),
        ("audit_trail",),
    ),
    Activity(
        "files",
        ("Imports et exports", "Imports and exports"),
        (
            "Importer des stagiaires depuis un fichier CSV ; exporter présences, journal, données d'une personne"
            " ou l'archive complète.",
            "Import trainees from a CSV file; export attendance, the trail, a person's data or the full archive.",
        ),
        (CONTRACT,),
        ("Exécution du contrat de service avec Emarge.", "Performance of the service contract with Emarge."),
        ("Stagiaires ; utilisateurs.", "Trainees; users."),
        ("Les données du fichier importé ou exporté.", "The data of the file imported or exported."),
        (
            "Les administrateurs ; la personne pour ses propres données.",
            "Administrators; the person for their own data.",
        ),
        ("import_upload", "task_files"),
    ),
    Activity(
        "rights",
        ("Demandes d'exercice des droits", "Personal-data requests"),
        (
            "Recevoir les demandes d'accès, de rectification, d'effacement, de portabilité, de limitation et"
            " d'opposition, et y répondre dans le délai légal.",
            "Receive requests for access, rectification, erasure, portability, restriction and objection, and"
            " answer them within the legal time.",
        ),
        (LEGAL_OBLIGATION,),
        ("RGPD, articles 12 à 22.", "GDPR, articles 12 to 22."),
        ("Stagiaires ; utilisateurs.", "Trainees; users."),
        (
            "Identité de la personne, sa demande, la réponse et ses dates.",
            "The person's identity, their request, the answer and its dates.",
        ),
        ("Les administrateurs de l'organisme.", "The organization's administrators."),
        ("end_of_service",),
    ),
    Activity(
        "support",
        ("Assistance par le support Emarge", "Help from Emarge support"),
        (
            "Aider l'organisme quand il le demande : le support ne voit ses pages que si l'organisme l'autorise,"
            " en consignant un motif.",
            "Help the organization when it asks: support sees its pages only if the organization allows it, and"
            " records a reason.",
        ),
        (CONTRACT,),
        ("Exécution du contrat de service avec Emarge.", "Performance of the service contract with Emarge."),
        ("Utilisateurs ; stagiaires.", "Users; trainees."),
        (
            "Ce que montrent les pages ouvertes par le support (signatures masquées) ; le journal de ces accès.",
            "What the pages support opens show (signatures masked); the log of that access.",
        ),
        ("L'équipe de support d'Emarge.", "Emarge's support team."),
        ("platform_logs",),
    ),
)

SECURITY = (
    "Chiffrement TLS de toutes les connexions ; données de chaque organisme dans un schéma ou un fichier à part ;"
    " mots de passe d'au moins 12 caractères conservés sous forme d'empreinte argon2id ; accès limité par rôle"
    " (un formateur ne voit que ses sessions) ; accès du support seulement autorisé et consigné ; journal"
    " d'audit ; documents scellés par empreinte SHA-256 et code de vérification ; sauvegardes régulières.",
    "TLS encryption of every connection; each organization's data in a schema or file of its own; passwords of"
    " at least 12 characters kept as argon2id hashes; access limited by role (a facilitator sees only their"
    " sessions); support access only when allowed, and logged; an audit trail; documents sealed by SHA-256"
    " fingerprint and verification code; regular backups.",
)

PROCESSOR = "Emarge"


def _pick(pair: tuple[str, str], language: str) -> str:
    return pair[1] if language == "en" else pair[0]


@dataclass(frozen=True)
class Line:
    """One activity of the record, in one language."""

    key: str
    name: str
    purpose: str
    bases: list[str]
    basis_detail: str
    subjects: str
    data: str
    recipients: str
    periods: list[tuple[str, str, str]]  # (what, how long, then)


def keeping(keep_months: int | None, language: str) -> str:
    """How long the organization's data is kept after its end of service, in words: the period it chose, or
    the registry's."""
    return words(keep_months, MONTHS, language) if keep_months else END_OF_SERVICE.words(language)


def lines(language: str, keep_months: int | None = None, proof_months: int | None = None) -> list[Line]:
    """Every activity, with its periods; the end of service's and the absence proofs' as the organization
    chose them."""
    result = []
    for activity in ACTIVITIES:
        periods = []
        for key in activity.periods:
            period = PERIODS[key]
            length = keeping(keep_months, language) if period is END_OF_SERVICE else period.words(language)
            if key == "absence_proofs" and proof_months:
                length = words(proof_months, MONTHS, language)
            periods.append((period.data(language), length, period.end(language)))
        result.append(
            Line(
                key=activity.key,
                name=_pick(activity.name, language),
                purpose=_pick(activity.purpose, language),
                bases=[_pick(BASES[basis], language) for basis in activity.bases],
                basis_detail=_pick(activity.basis_detail, language),
                subjects=_pick(activity.subjects, language),
                data=_pick(activity.data, language),
                recipients=_pick(activity.recipients, language),
                periods=periods,
            )
        )
    return result


def transfers(sub_processors, language: str) -> str:
    """Transfers outside the EU, as the sub-processors' list has them."""
    outside = [row for row in sub_processors if row.leaves_eu]
    if not outside:
        return _pick(
            (
                "Aucune : les données restent dans l'Union européenne.",
                "None: the data stays in the European Union.",
            ),
            language,
        )
    return " ; ".join(
        f"{row.name} ({row.country}{', ' + row.safeguards if row.safeguards else ''})" for row in outside
    )


def table(
    language: str, keep_months: int | None, sub_processors, proof_months: int | None = None
) -> tuple[list[str], list[list[str]]]:
    """The record as a table: its header, and one row per activity."""
    header = {
        "fr": [
            "Traitement",
            "Finalité",
            "Base légale",
            "Personnes concernées",
            "Données",
            "Destinataires",
            "Durées de conservation",
            "Sous-traitants",
            "Transferts hors UE",
        ],
        "en": [
            "Processing",
            "Purpose",
            "Legal basis",
            "Data subjects",
            "Data",
            "Recipients",
            "Retention periods",
            "Sub-processors",
            "Transfers outside the EU",
        ],
    }["en" if language == "en" else "fr"]
    processors = ", ".join(f"{row.name} ({row.role(language)}, {row.country})" for row in sub_processors)
    rows = []
    for line in lines(language, keep_months, proof_months):
        rows.append(
            [
                line.name,
                line.purpose,
                " ; ".join(line.bases) + " — " + line.basis_detail,
                line.subjects,
                line.data,
                line.recipients,
                " | ".join(f"{what}: {length} {then}" for what, length, then in line.periods),
                f"{PROCESSOR}; {processors}",
                transfers(sub_processors, language),
            ]
        )
    return header, rows
