from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from blueprints.web.choices import choices

KIND_CHOICES = [
    ("privacy", _l("Privacy policy")),
    ("cookies", _l("Cookie policy")),
    ("legal", _l("Legal notice")),
]


class PolicyPublishForm(FlaskForm):
    kind = SelectField(_l("Policy"), choices=choices(KIND_CHOICES))
    substantial = BooleanField(
        _l(
            "Substantial change: email every account holder and ask users to acknowledge it at their next login"
        )
    )
    summary_fr = TextAreaField(
        _l("What changes (French)"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Sent in the email and shown at login. Required for a substantial change."),
    )
    summary_en = TextAreaField(_l("What changes (English)"), validators=[Optional(), Length(max=2000)])
    body_fr = TextAreaField(_l("Text in French (HTML)"), validators=[DataRequired(), Length(max=100_000)])
    body_en = TextAreaField(_l("Text in English (HTML)"), validators=[DataRequired(), Length(max=100_000)])

    def validate_substantial(self, field):
        if field.data and self.kind.data == "legal":
            raise ValidationError(_l("Only the privacy and cookie policies are acknowledged by users."))
        if field.data and not ((self.summary_fr.data or "").strip() and (self.summary_en.data or "").strip()):
            raise ValidationError(_l("Say what changes, in both languages."))


class SubProcessorForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role_fr = StringField(_l("Role (French)"), validators=[DataRequired(), Length(max=300)])
    role_en = StringField(_l("Role (English)"), validators=[DataRequired(), Length(max=300)])
    country = StringField(_l("Country where data is processed"), validators=[DataRequired(), Length(max=100)])
    leaves_eu = BooleanField(_l("Data leaves the European Union"))
    safeguards = StringField(
        _l("Safeguards for a transfer outside the EU"), validators=[Optional(), Length(max=300)]
    )
    position = IntegerField(
        _l("Position in the list"), default=0, validators=[Optional(), NumberRange(0, 999)]
    )

    def validate_leaves_eu(self, field):
        # Checked here: Optional() on the safeguards field stops its own validators when it is empty.
        if field.data and not (self.safeguards.data or "").strip():
            raise ValidationError(
                _l("Say how data is protected outside the EU (adequacy decision, clauses…).")
            )


class AcknowledgeForm(FlaskForm):
    pass


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
