from __future__ import annotations

from decimal import Decimal
from functools import cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from blueprints.trainings.models import (
    APPRENTICESHIP,
    BLENDED,
    IN_PERSON,
    PRIOR_LEARNING,
    REMOTE,
    SKILLS_ASSESSMENT,
    TRAINING_ACTION,
)
from blueprints.web.choices import MultiCheckboxField, choices


@cache
def timezone_names() -> tuple[str, ...]:
    # Area/City names only: the aliases and legacy names (EST, Etc/GMT+3, posix/...) only confuse a list.
    return tuple(
        sorted(
            z
            for z in available_timezones()
            if "/" in z and not z.startswith(("Etc/", "posix", "right", "SystemV", "US/")) and z[0].isupper()
        )
    )


def timezone_choices():
    return choices((z, z.replace("_", " ")) for z in timezone_names())


def valid_timezone(form, field):
    if field.data not in timezone_names():
        raise ValidationError(_l("Choose a timezone from the list."))


MODALITY_CHOICES = [
    (IN_PERSON, _l("In person")),
    (REMOTE, _l("Remote")),
    (BLENDED, _l("Blended")),
]
SLOT_MODALITY_CHOICES = MODALITY_CHOICES[:2]
NATURE_CHOICES = [
    (TRAINING_ACTION, _l("Training action")),
    (SKILLS_ASSESSMENT, _l("Skills assessment")),
    (PRIOR_LEARNING, _l("Validation of prior learning")),
    (APPRENTICESHIP, _l("Apprenticeship")),
]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _none_if_blank(value):
    value = _strip(value)
    return value or None


class TrainingEditForm(FlaskForm):
    title = StringField(_l("Title"), filters=[_strip], validators=[DataRequired(), Length(max=200)])
    reference = StringField(
        _l("Internal reference"), filters=[_none_if_blank], validators=[Optional(), Length(max=60)]
    )
    objectives = TextAreaField(
        _l("Objectives"), filters=[_none_if_blank], validators=[Optional(), Length(max=5000)]
    )
    attendance_threshold = IntegerField(
        _l("Attendance threshold (%)"),
        description=_l("The rate its trainees must reach; empty: the organization's."),
        validators=[Optional(), NumberRange(min=1, max=100, message=_l("Between 1 and 100."))],
    )
    planned_hours = DecimalField(
        _l("Planned hours"),
        places=2,
        description=_l("Total length of the programme, in hours (e.g. 14 or 10.5)."),
        validators=[
            InputRequired(message=_l("Enter the planned number of hours.")),
            NumberRange(min=Decimal("0.5"), max=Decimal("9999"), message=_l("Between 0.5 and 9999 hours.")),
        ],
    )
    modality = RadioField(_l("Modality"), choices=choices(MODALITY_CHOICES), default=IN_PERSON)
    nature = SelectField(_l("Nature of the action"), choices=choices(NATURE_CHOICES), default=TRAINING_ACTION)


class SlotOptionsMixin:
    include_holidays = BooleanField(_l("Also plan slots on weekends and public holidays"), default=False)
    alsace_moselle = BooleanField(
        _l("Alsace-Moselle calendar (Good Friday and 26 December are public holidays)"), default=False
    )


class SessionEditForm(SlotOptionsMixin, FlaskForm):
    start_date = DateField(_l("Start date"), validators=[InputRequired(message=_l("Enter a date."))])
    end_date = DateField(_l("End date"), validators=[InputRequired(message=_l("Enter a date."))])
    location_name = StringField(
        _l("Place"),
        description=_l("For example: Training centre, room 2."),
        filters=[_none_if_blank],
        validators=[Optional(), Length(max=200)],
    )
    location_address = StringField(
        _l("Address"), filters=[_none_if_blank], validators=[Optional(), Length(max=300)]
    )
    remote_url = URLField(
        _l("Remote link"),
        description=_l("The video-conference link, for remote slots."),
        filters=[_none_if_blank],
        validators=[Optional(), URL(message=_l("Enter a full web address (https://…).")), Length(max=500)],
    )
    capacity = IntegerField(
        _l("Room capacity"),
        description=_l("The most participants the room holds."),
        validators=[Optional(), NumberRange(min=1, max=10000, message=_l("Between 1 and 10000."))],
    )
    facilitators = MultiCheckboxField(_l("Facilitators"), coerce=int, validate_choice=False)
    timezone = SelectField(_l("Timezone"), validators=[valid_timezone], validate_choice=False)
    room_code_required = BooleanField(_l("In-room code required to sign in-person slots"), default=True)
    # Set by the preview page: the person has seen which slots new dates remove.
    confirm = HiddenField()

    def validate_end_date(self, field):
        if self.start_date.data and field.data and field.data < self.start_date.data:
            raise ValidationError(_l("The end date must be on or after the start date."))


class SessionDuplicateForm(FlaskForm):
    start_date = DateField(_l("New start date"), validators=[InputRequired(message=_l("Enter a date."))])


class SlotsGenerateForm(SlotOptionsMixin, FlaskForm):
    confirm = HiddenField()


class SlotEditForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter a date."))])
    start_time = TimeField(_l("Starts at"), validators=[InputRequired(message=_l("Enter a time."))])
    end_time = TimeField(_l("Ends at"), validators=[InputRequired(message=_l("Enter a time."))])
    label = StringField(
        _l("Label (optional)"),
        description=_l("For example: Module 2 — practical work."),
        filters=[_none_if_blank],
        validators=[Optional(), Length(max=100)],
    )
    modality = RadioField(_l("Modality"), choices=choices(SLOT_MODALITY_CHOICES), default=IN_PERSON)

    def validate_end_time(self, field):
        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError(_l("The slot must end after it starts."))
