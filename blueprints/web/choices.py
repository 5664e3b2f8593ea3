"""Choices of select and radio fields in the form WTForms asks for (it deprecates plain tuples)."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget


def choices(pairs: Iterable[tuple]) -> list[SelectChoice]:
    """``[(value, label), …]`` → ``[SelectChoice(value, label), …]``."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """Several choices ticked in a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
