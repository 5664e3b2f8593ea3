"""The organization's attendance-tracking settings: the threshold, who is at risk, the follow-up rule, the
Alsace-Moselle public holidays, and how long absence proofs are kept. Values in, audited; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from blueprints.audit.services import Actor, record
from blueprints.shared.problems import FieldProblem
from tenants.retention import ABSENCE_PROOF_CHOICES_MONTHS

ACTION = "organization.tracking_settings_updated"
FIELDS = (
    "attendance_threshold",
    "risk_absences",
    "followup_enabled",
    "followup_absences",
    "alsace_moselle",
    "proof_keep_months",
)


class TrackingSettingsProblem(FieldProblem):
    """A setting refused, with the field to show it at."""


@dataclass(frozen=True)
class TrackingSettings:
    attendance_threshold: int
    risk_absences: int
    followup_enabled: bool
    followup_absences: int
    alsace_moselle: bool
    proof_keep_months: int


def save(org, values: TrackingSettings, actor: Actor) -> dict:
    if not 1 <= values.attendance_threshold <= 100:
        raise TrackingSettingsProblem("attendance_threshold", _("Between 1 and 100."))
    if not 1 <= values.risk_absences <= 20:
        raise TrackingSettingsProblem("risk_absences", _("Between 1 and 20."))
    if not 1 <= values.followup_absences <= 20:
        raise TrackingSettingsProblem("followup_absences", _("Between 1 and 20."))
    if values.proof_keep_months not in ABSENCE_PROOF_CHOICES_MONTHS:
        raise TrackingSettingsProblem("proof_keep_months", _("Pick one of the periods offered."))
    changes = {}
    for name in FIELDS:
        before, after = getattr(org, name), getattr(values, name)
        if before != after:
            changes[name] = [before, after]
            setattr(org, name, after)
    if changes:
        record(actor, ACTION, org, changes=changes)
    return changes
