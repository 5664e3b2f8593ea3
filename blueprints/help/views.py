"""The help pages: one per area, linked from the header of every signed-in page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from blueprints.help.content import PAGES, area_of

bp = Blueprint("help", __name__, url_prefix="/<org>/help")


@bp.app_context_processor
def _help_link():
    return {"help_area": lambda: area_of(request.endpoint, request.blueprint)}


def _visible() -> dict:
    return {area: page for area, page in PAGES.items() if current_user.is_admin or not page.admin_only}


@bp.get("/")
@login_required
def index():
    return render_template("help/index.html", pages=_visible())


@bp.get("/<area>")
@login_required
def page(area: str):
    pages = _visible()
    if area not in pages:
        abort(404)
    return render_template("help/page.html", area=area, help=pages[area], pages=pages)
