"""A refusal the person can act on, with the form field to show it at: what every service raises when a value
cannot be taken, and every page turns into a message next to that field (nothing is written)."""

from __future__ import annotations


class FieldProblem(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
