"""The public check of issued documents: ``/verify`` shows what was issued under a code (organization, type,
session, date, SHA-256, nothing personal) and compares an uploaded file with it byte for byte."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from blueprints.accounts import throttle
from blueprints.documents import services, verification
from blueprints.documents.services import DocumentError
from blueprints.privacy.measurement import never_measured
from blueprints.shared import uploads
from blueprints.web import csrf
from blueprints.web.audit_guard import writes

verify_bp = Blueprint("verify", __name__)

# The public check: a few uploads a minute from one address is plenty for a person.
VERIFY_IP = throttle.Limit("verify-ip", 30, 10 * 60)


def _public(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(template: str, status: int = 200, **context):
    return _public(current_app.make_response((render_template(template, **context), status)))


@verify_bp.get("/verify")
@never_measured
def start():
    typed = request.args.get("code")
    if typed is None:
        return _page("documents/verify_start.html")
    code = services.normalise_code(typed)
    if code is None:
        return _page(
            "documents/verify_start.html",
            422,
            typed=typed[:40],
            error=_("A verification code has 8 letters and digits, like 7KQ2-M9XD. Check what you typed."),
        )
    return redirect(url_for("verify.document", code=code), 303)


def _issued_or_404(code: str):
    normal = services.normalise_code(code)
    issued = verification.find_issued(normal) if normal else None
    if issued is None:
        return None, _page("documents/verify_unknown.html", 404, code=code[:40])
    return issued, None


@verify_bp.get("/verify/<code>")
@never_measured
def document(code: str):
    normal = services.normalise_code(code)
    if normal and normal != code:
        return redirect(url_for("verify.document", code=normal), 301)
    issued, missing = _issued_or_404(code)
    return missing or _page("documents/verify.html", issued=issued)


@verify_bp.post("/verify/<code>")
@never_measured
@csrf.exempt  # changes nothing and needs no account: there is nothing to forge
@writes(none="checks a file against its stored fingerprint; changes nothing")
def check(code: str):
    issued, missing = _issued_or_404(code)
    if missing:
        return missing
    ip = request.remote_addr or "?"
    wait = throttle.blocked(VERIFY_IP, ip)
    if wait:
        return _page(
            "documents/verify.html",
            429,
            issued=issued,
            error=_(
                "Too many checks from your address. Try again in %(minutes)d minutes.",
                minutes=max(1, wait // 60),
            ),
        )
    throttle.hit(VERIFY_IP, ip)
    # Refused before a byte is read: the body is larger than this page accepts.
    if (request.content_length or 0) > services.MAX_UPLOAD_BYTES + 64 * 1024:
        return _page("documents/verify.html", 413, issued=issued, error=services.too_large_message())
    upload = request.files.get("document")
    if upload is None or not upload.filename:
        return _page("documents/verify.html", 422, issued=issued, error=_("Choose the file to check."))
    try:
        sha256, size, head = services.hash_upload(upload.stream)
    except DocumentError as refusal:
        return _page("documents/verify.html", refusal.status, issued=issued, error=refusal.message)
    if uploads.sniff(head) != issued.content_type:
        message = (
            _("This file is not a PDF. Upload the PDF document you received, as it is.")
            if issued.content_type == services.PDF
            else _("This file is not a ZIP archive. Upload the archive you received, as it is.")
        )
        return _page("documents/verify.html", 422, issued=issued, error=message)
    return _page(
        "documents/verify.html",
        issued=issued,
        outcome="match" if sha256 == issued.sha256 else "mismatch",
        uploaded_sha256=sha256,
        uploaded_size=size,
    )
