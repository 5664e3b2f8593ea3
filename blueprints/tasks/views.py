from __future__ import annotations

import io

from flask import Blueprint, abort, make_response, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from blueprints.audit.services import record
from blueprints.tasks.models import DONE, FAILED, Task
from blueprints.tasks.services import hand_over
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from blueprints.web.htmx import is_fragment_request
from tenants import current_tenant
from tenants.db import db
from tenants.storage import storage

bp = Blueprint("tasks", __name__, url_prefix="/<org>/tasks")


def _own_task(task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    # Someone else's task is none of your business, unless you administer the organization.
    if task is None or (task.created_by_user_id != current_user.id and not current_user.is_admin):
        abort(404)
    return task


@bp.get("/<int:task_id>")
@login_required
def show(task_id: int):
    task = _own_task(task_id)
    response = make_response(render_template("tasks/_task.html", task=task))
    if task.finished:
        # The bar's last answer: a page may refresh what the task made (the documents list does).
        response.headers["HX-Trigger"] = "task-finished"
    return response


@bp.get("/<int:task_id>/download")
@login_required
def download(task_id: int):
    task = _own_task(task_id)
    key = task.result.get("blob") if task.status == DONE else None
    found = storage().get(key) if key else None
    if found is None:
        abort(404)
    meta, data = found
    return send_file(
        io.BytesIO(data), mimetype=meta.content_type, as_attachment=True, download_name=meta.filename
    )


@bp.post("/<int:task_id>/retry")
@login_required
@writes("task.retried")
def retry(task_id: int):
    """Run a failed task's job again (it is kept on the task); its bar, already on the page, starts over."""
    task = _own_task(task_id)
    if not task.job:
        abort(404)
    if task.status == FAILED:
        task.result = {k: v for k, v in task.result.items() if k == "page_url"}
        hand_over(task, current_tenant().schema)
        record(request_actor(), "task.retried", object_type="tasks", object_id=task.id, kind=task.kind)
        db.session.commit()
    if is_fragment_request():
        return render_template("tasks/_task.html", task=task)
    return redirect((task.result or {}).get("page_url") or url_for("today.index"), 303)
