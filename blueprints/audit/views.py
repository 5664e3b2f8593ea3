from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from blueprints.accounts.auth import admin_required
from blueprints.audit.models import AuditEvent
from blueprints.audit.services import record
from blueprints.tasks.services import launch, start_task
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from jobs import MAINTENANCE
from tenants import current_tenant
from tenants.db import db

bp = Blueprint("audit", __name__, url_prefix="/<org>/audit")

PAGE = 50


@bp.get("/")
@admin_required
def index():
    page = db.paginate(select(AuditEvent).order_by(AuditEvent.id.desc()), per_page=PAGE, error_out=False)
    return render_template("audit/index.html", page=page, task_id=request.args.get("task", type=int))


@bp.post("/export")
@admin_required
@writes("audit.exported")
def export():
    task = start_task("audit-export", _("Audit trail export"), current_user.id)
    record(request_actor(), "audit.exported", object_type="tasks", object_id=task.id)
    launch(task, "jobs.exports.export_audit", queue=MAINTENANCE, tenant=current_tenant())
    db.session.commit()
    return redirect(url_for("audit.index", task=task.id), 303)
