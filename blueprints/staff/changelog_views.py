"""Staff write the changelog: entries in French and English, drafts until published, each save in the staff log."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from blueprints.changelog import services as changelog
from blueprints.changelog.models import CATEGORIES, ChangelogEntry
from blueprints.changelog.views import category_names
from blueprints.staff import services
from blueprints.staff.views import bp, current_staff, staff_required
from blueprints.web.audit_guard import writes
from blueprints.web.choices import choices
from tenants.db import db, utcnow

CREATED = "changelog.created"
UPDATED = "changelog.updated"


class EntryForm(FlaskForm):
    category = SelectField(_l("Category"), choices=choices((c, c) for c in CATEGORIES))
    published_on = DateField(_l("Date"), validators=[DataRequired(_l("Give the date of the change."))])
    title_fr = StringField(_l("Title in French"), validators=[Length(max=200)])
    body_fr = TextAreaField(_l("Text in French (Markdown)"))
    title_en = StringField(_l("Title in English"), validators=[Length(max=200)])
    body_en = TextAreaField(_l("Text in English (Markdown)"))
    published = BooleanField(_l("Published (otherwise a draft only staff see)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = choices(category_names().items())


@bp.get("/changelog")
@staff_required
def changelog_entries():
    return render_template(
        "staff/changelog.html", entries=changelog.every_entry(), categories=category_names()
    )


@bp.route("/changelog/new", methods=["GET", "POST"])
@bp.route("/changelog/<int:entry_id>", methods=["GET", "POST"])
@staff_required
@writes(none="platform staff: a changelog entry is the platform's own text, its saves in the staff log")
def changelog_entry(entry_id: int | None = None):
    entry = db.get_or_404(ChangelogEntry, entry_id) if entry_id is not None else None
    form = EntryForm(obj=entry)
    if request.method == "GET" and entry is None:
        form.published_on.data = utcnow().date()
    if form.validate_on_submit():
        try:
            saved = changelog.save(
                entry,
                staff_id=current_staff().id,
                category=form.category.data,
                published_on=form.published_on.data,
                published=form.published.data,
                title_fr=form.title_fr.data,
                title_en=form.title_en.data,
                body_fr=form.body_fr.data,
                body_en=form.body_en.data,
            )
        except changelog.EntryProblem as problem:
            db.session.rollback()
            getattr(form, problem.field).errors.append(str(problem))
        else:
            services.log(
                current_staff().id,
                UPDATED if entry else CREATED,
                ip=request.remote_addr,
                entry=saved.id,
                published=saved.published,
            )
            db.session.commit()
            flash(_("Published.") if saved.published else _("Saved as a draft."), "success")
            return redirect(url_for("staff.changelog_entries"), 303)
    return render_template("staff/changelog_entry.html", form=form, entry=entry), 422 if form.errors else 200
