"""The organization's record of processing (blueprints/privacy/processing.py), for admins: a page, and the same
as a spreadsheet."""

from __future__ import annotations

from flask import Response, render_template
from flask_babel import get_locale

from blueprints.accounts.auth import admin_required
from blueprints.accounts.models import organization
from blueprints.privacy import policy_versions, processing
from blueprints.privacy.defaults import CONTACT
from blueprints.settings.views import bp
from blueprints.shared.cells import write_csv
from tenants import current_tenant
from tenants.db import utcnow


def _language() -> str:
    return "en" if str(get_locale()) == "en" else "fr"


@bp.get("/processing")
@admin_required
def processing_record():
    tenant = current_tenant()
    language = _language()
    rows = policy_versions.sub_processors()
    org = organization()
    return render_template(
        "settings/processing.html",
        org=org,
        tenant=tenant,
        lines=processing.lines(language, tenant.keep_months, org.proof_keep_months),
        bases=processing.BASES,
        security=processing.SECURITY[1 if language == "en" else 0],
        sub_processors=rows,
        transfers=processing.transfers(rows, language),
        keeping=processing.keeping(tenant.keep_months, language),
        processor=processing.PROCESSOR,
        dpo=CONTACT,
        language=language,
        made_at=utcnow(),
    )


@bp.get("/processing.csv")
@admin_required
def processing_csv():
    tenant = current_tenant()
    header, rows = processing.table(
        _language(), tenant.keep_months, policy_versions.sub_processors(), organization().proof_keep_months
    )
    return Response(
        write_csv(header, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{tenant.slug}-record-of-processing.csv"'},
    )
