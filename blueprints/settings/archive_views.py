"""The organization's full archive, for admins: ask for one (audited), follow its bar, download it for 7 days."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from blueprints.accounts.auth import admin_required
from blueprints.audit.services import record
from blueprints.settings.archive import ARCHIVE_KIND
from blueprints.settings.views import bp
from blueprints.tasks.models import Task
from blueprints.tasks.services import launch, start_task
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from jobs import MAINTENANCE
from tenants import current_tenant
from tenants.db import db


@bp.get("/archive")
@admin_required
def archive():
    tasks = db.session.scalars(
        select(Task).where(Task.kind == ARCHIVE_KIND).order_by(Task.id.desc()).limit(5)
    ).all()
    return render_template("settings/archive.html", tasks=tasks, form=FlaskForm())


@bp.post("/archive")
@admin_required
@writes("organization.archived")
def make_archive():
    if not FlaskForm().validate_on_submit():
        abort(400)
    task = start_task(ARCHIVE_KIND, _("Full archive of the organization"), current_user.id)
    record(request_actor(), "organization.archived", object_type="tasks", object_id=task.id)
    launch(task, "jobs.archive.build_archive", queue=MAINTENANCE, tenant=current_tenant())
    db.session.commit()
    return redirect(url_for("settings.archive"), 303)
