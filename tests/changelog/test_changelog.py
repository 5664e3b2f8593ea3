"""Staff write the changelog in both languages; the public page and the Atom feed show published entries from
their date, in the reader's language, sanitized; drafts and incomplete entries stay out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from sqlalchemy import select

from tests.privacy.conftest import sign_in_staff

ATOM = "{http://www.w3.org/2005/Atom}"


def entry_form(**changes) -> dict:
    form = {
        "category": "new",
        "published_on": date.today().isoformat(),
        "title_fr": "Export plus rapide",
        "body_fr": "L'export est **plus rapide**.\n\n<script>alert(1)</script>[voir](javascript:alert(2))",
        "title_en": "Faster export",
        "body_en": "The export is **faster**. <img src=x onerror=alert(3)>",
        "published": "y",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def entries(app) -> list:
    from blueprints.changelog.models import ChangelogEntry
    from tenants.db import db

    with app.app_context():
        rows = db.session.scalars(select(ChangelogEntry).order_by(ChangelogEntry.id)).all()
        db.session.expunge_all()
        return rows


def test_staff_publish_an_entry_that_the_page_and_feed_show_sanitized(app):
    staff = app.test_client()
    sign_in_staff(app, staff)
    response = staff.post("/staff/changelog/new", data=entry_form())
    assert response.status_code == 303
    (entry,) = entries(app)
    assert entry.published and entry.title_en == "Faster export"

    visitor = app.test_client()
    page = visitor.get("/changelog", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Export plus rapide" in page and "<strong>plus rapide</strong>" in page
    assert "alert" not in page and "javascript:" not in page
    page_en = visitor.get("/changelog?lang=en").get_data(as_text=True)
    assert "Faster export" in page_en and "onerror" not in page_en and "<img" not in page_en

    feed = visitor.get("/changelog/feed.atom?lang=en")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)
    (item,) = root.findall(f"{ATOM}entry")
    assert item.find(f"{ATOM}title").text == "Faster export"
    content = item.find(f"{ATOM}content").text  # the HTML, escaped once in the XML
    assert "<strong>faster</strong>" in content and "onerror" not in content and "alert" not in content

    # The staff log names the save.
    log = staff.get("/staff/team/log", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "wrote a changelog entry" in log


def test_drafts_and_later_dates_stay_off_the_public_page(app):
    staff = app.test_client()
    sign_in_staff(app, staff)
    staff.post("/staff/changelog/new", data=entry_form(title_fr="Brouillon", published=None))
    later = (date.today() + timedelta(days=3)).isoformat()
    staff.post("/staff/changelog/new", data=entry_form(title_fr="Plus tard", published_on=later))
    assert len(entries(app)) == 2
    page = app.test_client().get("/changelog", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Brouillon" not in page and "Plus tard" not in page and "Nothing announced yet" in page
    staff_page = staff.get("/staff/changelog", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Brouillon" in staff_page and "Draft" in staff_page and "Plus tard" in staff_page

    # Publishing the draft later is an edit of the same entry, not a new one.
    draft = entries(app)[0]
    assert (
        staff.post(f"/staff/changelog/{draft.id}", data=entry_form(title_fr="Brouillon")).status_code == 303
    )
    assert len(entries(app)) == 2
    assert "Brouillon" in app.test_client().get("/changelog").get_data(as_text=True)


def test_an_entry_missing_a_language_is_refused_with_the_field_named(app):
    staff = app.test_client()
    sign_in_staff(app, staff)
    response = staff.post(
        "/staff/changelog/new", data=entry_form(title_en="  "), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert "Write it in both languages" in response.get_data(as_text=True)
    response = staff.post(
        "/staff/changelog/new", data=entry_form(published_on="soon"), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert entries(app) == []
    assert app.test_client().get("/staff/changelog/new").status_code == 302  # staff only


def test_the_whats_new_mark_shows_until_the_user_opens_the_changelog(app, make_tenant):
    from tests.conftest import login

    make_tenant("acme", admin="ada@acme.fr", language="en")
    user = app.test_client()
    user.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(user, "acme", "ada@acme.fr").status_code == 303

    def marked() -> bool:
        return 'class="news-mark"' in user.get("/acme/").get_data(as_text=True)

    assert not marked()  # nothing announced yet
    staff = app.test_client()
    sign_in_staff(app, staff)
    staff.post("/staff/changelog/new", data=entry_form())
    assert marked()
    opened = user.post("/acme/whats-new")
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/changelog")
    assert not marked()
    staff.post("/staff/changelog/new", data=entry_form(title_en="Second change"))
    assert marked()  # a newer entry brings it back
    # Another user of the organization has their own mark; the POST needs a signed-in user.
    assert app.test_client().post("/acme/whats-new").status_code in (302, 303, 401)
