"""Forms of the tracking pages: a justification (the trainee's or an admin's), an admin's decision."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, TextAreaField

from blueprints.tracking.justifications import REASON_LABELS
from blueprints.web.choices import choices


class JustificationForm(FlaskForm):
    slot = SelectField(_l("Half-day"), choices=[], validate_choice=False)
    reason = SelectField(_l("Reason"), choices=lambda: choices(REASON_LABELS.items()), validate_choice=False)
    text = TextAreaField(_l("Explanation (optional)"))
    proof = FileField(_l("Proof (optional): PDF, PNG or JPEG, 5 MB at most"))


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=lambda: choices(
            (("accept", _l("Accept: the half-day becomes excused")), ("refuse", _l("Refuse")))
        ),
        validate_choice=False,
    )
    decision_reason = TextAreaField(_l("Reason, told to the trainee (needed to refuse)"))
