from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from blueprints.accounts.forms import LANGUAGES
from blueprints.settings.services import MAX_REMINDER_MINUTES, activity_number_valid, siret_valid
from blueprints.trainings.forms import valid_timezone
from blueprints.web.choices import choices


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _none_if_blank(value):
    return _strip(value) or None


def _digits(value):
    # People copy these numbers with spaces or dots ("123 456 789 00012").
    if not isinstance(value, str):
        return value
    return "".join(value.split()).replace(".", "") or None


def _siret(form, field):
    if field.data and not siret_valid(field.data):
        raise ValidationError(_l("This SIRET number is not valid: check its 14 digits."))


def _minutes_given(form, field):
    # Missing from the form (an older page, a script): the current value stays. Sent empty: a clear refusal.
    if field.raw_data and not str(field.raw_data[0]).strip():
        field.errors[:] = []
        raise StopValidation(_l("Enter a number of minutes (0 turns the reminder off)."))


def _reminder_minutes(label, description):
    return IntegerField(
        label,
        description=description,
        validators=[
            _minutes_given,
            NumberRange(
                min=0, max=MAX_REMINDER_MINUTES, message=_l("Between 0 and 1440 minutes (24 hours).")
            ),
        ],
    )


def _activity_number(form, field):
    if field.data and not activity_number_valid(field.data):
        raise ValidationError(_l("The declaration of activity number has 11 digits."))


class OrganizationSettingsForm(FlaskForm):
    name = StringField(_l("Legal name"), filters=[_strip], validators=[DataRequired(), Length(max=200)])
    siret = StringField(
        _l("SIRET"), description=_l("14 digits."), filters=[_digits], validators=[Optional(), _siret]
    )
    activity_number = StringField(
        _l("Declaration of activity number"),
        description=_l("11 digits, as given by the regional prefecture."),
        filters=[_digits],
        validators=[Optional(), _activity_number],
    )
    address = StringField(
        _l("Postal address"), filters=[_strip], validators=[DataRequired(), Length(max=300)]
    )
    postal_code = StringField(
        _l("Postal code"), filters=[_strip], validators=[DataRequired(), Length(max=12)]
    )
    city = StringField(_l("City"), filters=[_strip], validators=[DataRequired(), Length(max=100)])
    contact_email = EmailField(
        _l("Contact email"), filters=[_strip], validators=[DataRequired(), Email(), Length(max=254)]
    )
    contact_phone = TelField(
        _l("Contact phone"),
        filters=[_none_if_blank],
        validators=[Optional(), Regexp(r"^[0-9 +().-]{6,20}$", message=_l("Enter a valid phone number."))],
    )
    logo = FileField(_l("Logo"), description=_l("PNG or JPEG, 2 MB at most."))
    remove_logo = BooleanField(_l("Remove the logo"))
    representative_name = StringField(
        _l("Name of the representative"), filters=[_none_if_blank], validators=[Optional(), Length(max=200)]
    )
    representative_title = StringField(
        _l("Title of the representative"),
        description=_l("For example: Managing director."),
        filters=[_none_if_blank],
        validators=[Optional(), Length(max=200)],
    )
    signature = FileField(
        _l("Or upload an image of the signature"), description=_l("PNG or JPEG, 2 MB at most.")
    )
    signature_data = HiddenField()
    remove_signature = BooleanField(_l("Remove the signature"))
    morning_start = TimeField(_l("Morning starts"), validators=[InputRequired(message=_l("Enter a time."))])
    morning_end = TimeField(_l("Morning ends"), validators=[InputRequired(message=_l("Enter a time."))])
    afternoon_start = TimeField(
        _l("Afternoon starts"), validators=[InputRequired(message=_l("Enter a time."))]
    )
    afternoon_end = TimeField(_l("Afternoon ends"), validators=[InputRequired(message=_l("Enter a time."))])
    late_tolerance_minutes = IntegerField(
        _l("Late tolerance (minutes)"),
        description=_l("A participant who signs later than this after the start is marked late."),
        validators=[
            InputRequired(message=_l("Enter a number of minutes.")),
            NumberRange(min=0, max=120, message=_l("Between 0 and 120 minutes.")),
        ],
    )
    language = SelectField(_l("Default language"), choices=choices(LANGUAGES))
    timezone = SelectField(_l("Timezone"), validators=[valid_timezone], validate_choice=False)
    signin_channels = RadioField(
        _l("How participants receive their sign-in link"),
        choices=choices(
            [
                ("email", _l("Email")),
                ("sms", _l("Text message (SMS)")),
                ("both", _l("Email and text message")),
            ]
        ),
        default="email",
    )
    reminder_before_minutes = _reminder_minutes(
        _l("Reminder before each slot (minutes)"),
        _l("Sent to every participant expected, this many minutes before the start. 0: no reminder."),
    )
    reminder_after_minutes = _reminder_minutes(
        _l("Reminder after the start (minutes)"),
        _l("Sent to those who have not signed yet, this many minutes after the start. 0: no reminder."),
    )
    slot_summary = BooleanField(
        _l("Email the facilitators a summary of who signed when each slot ends"),
    )

    def validate_morning_end(self, field):
        times = [self.morning_start.data, field.data, self.afternoon_start.data, self.afternoon_end.data]
        if all(times) and not times[0] < times[1] <= times[2] < times[3]:
            raise ValidationError(
                _l(
                    "The half-days must follow each other: morning start, morning end, afternoon start, afternoon end."
                )
            )
