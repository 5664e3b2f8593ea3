from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from blueprints.participants import services
from blueprints.participants.services import ParticipantError
from blueprints.web.choices import choices

LANGUAGES = [("fr", "Français"), ("en", "English")]


def _email(form, field):
    try:
        field.data = services.normalize_email(field.data)
    except ParticipantError as error:
        raise ValidationError(str(error)) from None


def _phone(form, field):
    try:
        field.data = services.normalize_phone(field.data)
    except ParticipantError as error:
        raise ValidationError(str(error)) from None


def _civilities():
    labels = services.civility_labels()
    return choices([("", _l("—")), ("mme", labels["mme"]), ("m", labels["m"])])


class ParticipantEditForm(FlaskForm):
    civility = SelectField(_l("Civility"), choices=_civilities, validate_choice=True)
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=254), _email])
    mobile = TelField(
        _l("Mobile phone"),
        description=_l("06 12 34 56 78, or with the country code (+44 …) for a number abroad."),
        validators=[Optional(), Length(max=30), _phone],
    )
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=200)])
    language = SelectField(_l("Preferred language"), choices=choices(LANGUAGES), default="fr")
    sms_consent = BooleanField(_l("Agrees to receive text messages"))
    processing_restricted = BooleanField(
        _l("Processing restricted"),
        description=_l("On a restriction request: no message is sent and no new signature is collected."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])

    def data_for_service(self) -> dict:
        return {name: getattr(self, name).data for name in services.EDITABLE}


class EnrollmentAddForm(FlaskForm):
    funder = SelectField(_l("Funder"), choices=lambda: choices(services.funder_choices()), default="employer")
    funder_reference = StringField(
        _l("Funder's file reference"),
        description=_l("The OPCO agreement or CPF file number, if there is one."),
        validators=[Optional(), Length(max=100)],
    )


class EnrollmentEditForm(EnrollmentAddForm):
    employer_contact_name = StringField(_l("Employer contact"), validators=[Optional(), Length(max=200)])
    employer_contact_email = StringField(
        _l("Employer contact's email"),
        description=_l(
            "Optional, for one purpose only: to be warned of this trainee's repeated unjustified absences by "
            "the follow-up of absences."
        ),
        validators=[Optional(), Length(max=254)],
    )


class ImportUploadForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        description=_l(
            "Up to 5 MB. Comma or semicolon separated, as Excel saves it. One line per participant, with "
            "at least first name, last name and email."
        ),
        validators=[FileRequired(_l("Choose a file."))],
    )
    session_id = SelectField(
        _l("Also enroll them in a session"), choices=[], coerce=str, validate_choice=True
    )
    funder = SelectField(
        _l("Funder for everyone enrolled"),
        choices=lambda: choices(services.funder_choices()),
        default="employer",
    )
