"""Documents in a real Chromium (CSRF and CSP on): ask for the sheet, the bar fills, the list and the download
appear without a reload; the downloaded PDF is then checked on the public page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_login_browser import ARTIFACTS, Phone, acme_server  # noqa: F401 (fixture)
from tests.participants.conftest import add_participant, enroll, make_session

pytestmark = pytest.mark.browser


@pytest.mark.slow  # once, on PostgreSQL: a real RQ worker makes the document while the page waits
def test_a_sheet_is_made_listed_downloaded_and_verified(browser, acme_server, app, jobs):  # noqa: F811
    from sqlalchemy import select

    from blueprints.documents.models import Document
    from tenants import tenant_scope
    from tenants.db import db

    session_id = make_session(app, title="Gestes et postures")
    enroll(app, session_id, add_participant(app, first_name="Hélène", last_name="Lefèvre"))
    device = Phone(browser, acme_server)
    device.context.set_default_timeout(30_000)
    page = device.page
    device.log_in()
    page.goto(f"{device.base}/acme/sessions/{session_id}/documents")
    page.wait_for_function("typeof htmx === 'object'")
    expect(page.locator("#issued")).to_contain_text("No document issued yet")

    page.get_by_role("button", name="Make the attendance sheet").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#document-tasks progress")
    page.evaluate("window.__same_page = true")
    jobs()  # the worker takes the job; the bar polls until it is done

    download_link = page.locator("#document-tasks a", has_text="Download")
    expect(download_link).to_be_visible()
    # The list of issued documents refreshed itself when the bar finished: same page, no reload.
    expect(page.locator("#issued")).to_contain_text("Attendance sheet of the session")
    assert page.evaluate("window.__same_page") is True

    with page.expect_download() as info:
        download_link.focus()
        page.keyboard.press("Enter")
    pdf = info.value.path()
    with tenant_scope("acme", app):
        code = db.session.scalars(select(Document.verification_code)).one()

    public = Phone(browser, acme_server)
    public.page.goto(f"{device.base}/verify/{code}")
    public.page.set_input_files("input[type=file]", pdf)
    public.page.get_by_role("button", name="Check", exact=True).focus()
    with public.page.expect_navigation():
        public.page.keyboard.press("Enter")
    expect(public.page.locator("main")).to_contain_text("byte-for-byte identical")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "documents-phone.png"), full_page=True)
    device.assert_clean()
    public.assert_clean()
    device.context.close()
    public.context.close()
