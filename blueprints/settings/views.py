"""The organization's settings page (administrators) and its two images."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from blueprints.accounts.auth import admin_required
from blueprints.accounts.models import organization
from blueprints.settings import services
from blueprints.settings.forms import OrganizationSettingsForm
from blueprints.settings.services import Images, SettingsData, SettingsError
from blueprints.support import access
from blueprints.trainings.forms import timezone_choices
from blueprints.web.actor import request_actor
from blueprints.web.audit_guard import writes
from tenants import current_tenant
from tenants.db import db

bp = Blueprint("settings", __name__, url_prefix="/<org>/settings")

FILE_READ_LIMIT = services.MAX_IMAGE_BYTES + 1


def _read(file) -> bytes | None:
    """The bytes of an uploaded file, at most one past the limit (enough to refuse a bigger one)."""
    if not file or not getattr(file, "filename", ""):
        return None
    return file.read(FILE_READ_LIMIT) or None


def _data(form: OrganizationSettingsForm) -> SettingsData:
    return SettingsData(**{name: getattr(form, name).data for name in SettingsData.__dataclass_fields__})


@bp.route("/", methods=["GET", "POST"])
@admin_required
@writes("organization.settings_updated")
def index():
    org = organization()
    form = OrganizationSettingsForm(obj=org)
    form.timezone.choices = timezone_choices()
    if not form.is_submitted():
        form.language.data, form.timezone.data = current_tenant().language, current_tenant().timezone
    if form.validate_on_submit():
        try:
            signature = _read(form.signature.data)
            if signature is None and form.signature_data.data:
                signature = services.decode_data_url(form.signature_data.data, field="signature")
            images = Images(
                logo=_read(form.logo.data),
                remove_logo=form.remove_logo.data,
                signature=signature,
                remove_signature=form.remove_signature.data,
            )
            services.update_settings(org, _data(form), images, request_actor(), tenant_id=current_tenant().id)
        except SettingsError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Settings saved."), "success")
            return redirect(url_for("settings.index"), 303)
    status = 422 if form.errors else 200
    return render_template("settings/index.html", form=form, org=org), status


def _image_response(blob_id: int | None):
    found = services.image(blob_id)
    if found is None:
        # Nothing to show yet: an empty answer, not a missing page (the page exists; the image is optional).
        return make_response("", 204)
    content_type, data = found
    response = make_response(data)
    response.mimetype = content_type
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get("/logo")
@login_required
def logo():
    return _image_response(organization().logo_blob_id)


@bp.get("/signature")
@admin_required
def signature():
    if access.hidden("signature", "representative"):
        abort(404)  # masked in a support session until the staff member reveals it
    return _image_response(organization().representative_signature_blob_id)
