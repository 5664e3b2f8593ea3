"""Today, the home page: the half-days of today and the next working day, and what needs action.

The list refreshes itself: its change check watches the listed half-days' versions (the live page's), so a
signature landing on one of them refreshes the counts at once; a timer refreshes the rest every 30 seconds.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for
from flask_login import current_user, login_required

from blueprints.signing import live
from blueprints.signing.tokens import LIVE_MAX_SLOTS, live_token
from blueprints.today import services
from blueprints.trainings.access import sessions_query
from blueprints.web.htmx import render
from blueprints.web.keys import secret_keys
from tenants import current_tenant
from tenants.db import utcnow

bp = Blueprint("today", __name__, url_prefix="/<org>")


def _shown() -> int:
    asked = request.args.get("shown", type=int) or services.PAGE
    return max(services.PAGE, min(asked, LIVE_MAX_SLOTS))


@bp.get("/")
@login_required
def index():
    tenant = current_tenant()
    now = utcnow()
    today = services.local_today(tenant.timezone, now)
    visible = sessions_query(current_user)
    watched_schema = tenant.schema
    page = services.page_of_half_days(visible, services.working_days(today), shown=_shown())
    watched = [slot.id for slot in page.slots]
    # Read before the counts, as on the live page: a change landing in between makes the page fetch again.
    version = live.version(current_app, watched_schema, tuple(watched))
    agenda = services.agenda(page, now)
    return render(
        "today/index.html",
        "today/_today.html",
        agenda=agenda,
        actions=services.needs_action(visible, today, now, admin=current_user.is_admin),
        today=today,
        shown=len(agenda.half_days),
        version=version,
        poll_url=url_for(
            "signing_live.poll", token=live_token(secret_keys(current_app.config), watched_schema, watched)
        ),
    )
