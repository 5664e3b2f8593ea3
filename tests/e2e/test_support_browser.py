"""A support session walked end to end in a real Chromium, against the app served for real (CSRF and CSP on):
the staff member signs in with a password and an authenticator code, starts a read-only session from the
organization's page, sees the banner on every page, is refused a change, ends the session, and the
organization's admin reads every page of it in the support access log."""

from __future__ import annotations

import re

import pyotp
import pytest

from tests.conftest import PASSWORD
from tests.support.test_sessions import give_access, user_id

pytestmark = pytest.mark.browser

SECRET = "EMARGETESTSUPPORT2345672"


@pytest.fixture
def served(make_app, make_tenant):
    from blueprints.staff import services as staff_services
    from tenants.db import db

    app = make_app(WTF_CSRF_ENABLED=True)
    make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")
    give_access(app)
    with app.app_context():
        staff_services.create_staff(
            "sue@emarge.fr", name="Sue Support", role="support", password="sue-support-2026!", secret=SECRET
        )
        db.session.commit()
    return app


def tenant_id(app) -> int:
    from tenants import find_tenant

    with app.app_context():
        return find_tenant(slug="acme").id


def test_a_support_session_from_start_to_end(served, live_server, browser):
    base = live_server(served)
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The staff member signs in: password and authenticator code.
    page.goto(f"{base}/staff/login")
    page.fill("input[name=email]", "sue@emarge.fr")
    page.fill("input[name=password]", "sue-support-2026!")
    page.fill("input[name=code]", pyotp.TOTP(SECRET).now())
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/"))

    # The organization's page: pick Fred, say why, start (read only by default).
    page.goto(f"{base}/staff/organizations/{tenant_id(served)}")
    page.select_option("select[name=user_id]", value=str(user_id(served, "fred@acme.fr")))
    page.fill("input[name=reason]", "Request 7: the roster")
    page.click("text=Start the support session")
    page.wait_for_url(re.compile(r"/acme/"))
    banner = page.locator("#support-banner")
    assert "is acting as Fred Acme" in banner.inner_text()
    assert "read only" in banner.inner_text() and "minutes left" in banner.inner_text()

    # Another page: the banner is there too; a change is refused on the server, with a clear page.
    page.goto(f"{base}/acme/account")
    assert page.locator("#support-banner").is_visible()
    page.locator("form:has(select[name='profile-language']) button[type=submit]").click()
    page.wait_for_load_state()
    assert "Nothing was changed" in page.content()

    # End: back in the console; the organization's pages no longer open as Fred.
    page.locator("#support-banner button", has_text="End").click()
    page.wait_for_url(re.compile(r"/staff/organizations/"))
    assert page.locator("#support-banner").count() == 0
    page.goto(f"{base}/acme/")
    assert "/acme/login" in page.url
    context.close()

    # The organization's admin reads the session: who, why, every page viewed, the refusal.
    admin = browser.new_context(locale="en-GB")
    ada = admin.new_page()
    ada.goto(f"{base}/acme/login")
    ada.fill("input[name=email]", "ada@acme.fr")
    ada.fill("input[name=password]", PASSWORD)
    ada.click("button[type=submit]")
    ada.wait_for_url(re.compile(r"/acme/"))
    ada.goto(f"{base}/acme/settings/support")
    ada.locator("a[href*='/acme/settings/support/sessions/']").first.click()
    log = ada.content()
    assert "Sue Support" in log and "Request 7: the roster" in log
    assert "/acme/account" in log and "refused" in log.lower()
    admin.close()
    assert errors == []
