"""The web extensions every page uses, made once and bound to the app in ``init_web``."""

from __future__ import annotations

from flask_htmx import HTMX
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
hx = HTMX()
