"""The breach register walked in a real Chromium, against the app served for real (CSRF and CSP on): a platform
admin signs in, records an incident through the form (a local date and time, the nature ticked), notifies it;
the organization's admin sees the banner, opens the notice (the page's own request records it viewed) and
acknowledges it; the staff member sees both."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pyotp
import pytest

from tests.e2e.test_login_browser import ARTIFACTS, Phone

pytestmark = pytest.mark.browser

SECRET = "EMARGETESTBREACH23456723"


@pytest.fixture
def served(make_app, make_tenant):
    from blueprints.staff import services as staff_services
    from tenants.db import db

    app = make_app(WTF_CSRF_ENABLED=True)
    make_tenant("acme", admin="ada@acme.fr", language="en")
    with app.app_context():
        staff_services.create_staff(
            "sam@emarge.fr",
            name="Sam Admin",
            role="platform-admin",
            password="sam-admin-2026!",
            secret=SECRET,
        )
        db.session.commit()
    return app


def notice_of(app):
    from sqlalchemy import select

    from blueprints.breaches.models import BreachNotice
    from tenants.db import db

    with app.app_context():
        notice = db.session.scalars(select(BreachNotice)).one()
        db.session.expunge_all()
        return notice


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("waited 10 s in vain")


def test_an_incident_recorded_notified_viewed_and_acknowledged(served, live_server, browser):
    base = live_server(served)
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    staff = context.new_page()
    errors: list[str] = []
    staff.on("pageerror", lambda error: errors.append(str(error)))

    staff.goto(f"{base}/staff/login")
    staff.fill("input[name=email]", "sam@emarge.fr")
    staff.fill("input[name=password]", "sam-admin-2026!")
    staff.fill("input[name=code]", pyotp.TOTP(SECRET).now())
    staff.click("button[type=submit]")
    staff.wait_for_url(re.compile(r"/staff/"))

    staff.goto(f"{base}/staff/breaches")
    staff.click("text=Record an incident")
    two_hours_ago = datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")) - timedelta(hours=2)
    staff.fill("input[name=title]", "Export sent to the wrong address")
    staff.fill("input[name=discovered_at]", two_hours_ago.strftime("%Y-%m-%dT%H:%M"))
    staff.check("input[name=nature][value=confidentiality]")
    staff.fill("textarea[name=data_categories]", "Names and signatures of 12 trainees")
    staff.fill("input[name=people_count]", "12")
    staff.fill("textarea[name=organizations]", "acme")
    staff.fill("textarea[name=consequences]", "An outsider may have seen 12 names.")
    staff.fill("textarea[name=measures_taken]", "The link was revoked.")
    staff.fill("textarea[name=contact]", "dpo@emarge.fr")
    staff.click("button:has-text('Record')")
    staff.wait_for_url(re.compile(r"/staff/breaches/\d+$"))
    assert re.search(r"(69|70) h \d\d min left", staff.content())
    staff.click("button:has-text('Notify 1 organization')")
    staff.wait_for_url(re.compile(r"/staff/breaches/\d+#notices$"))
    assert "Notified 2 h" in staff.content()
    ARTIFACTS.mkdir(exist_ok=True)
    staff.screenshot(path=str(ARTIFACTS / "breach-staff.png"), full_page=True)

    # The organization's admin: the banner, the notice; the page's own POST records that it was viewed.
    phone = Phone(browser, base)
    try:
        phone.log_in()
        page = phone.page
        banner = page.locator("#security-notice-banner")
        assert banner.is_visible()
        banner.get_by_role("link").tap()
        page.get_by_role("link", name="Export sent to the wrong address").tap()
        page.wait_for_url(re.compile(r"/acme/security-notices/\d+$"))
        assert "An outsider may have seen 12 names." in page.content()
        page.screenshot(path=str(ARTIFACTS / "breach-notice-phone.png"), full_page=True)
        assert wait_for(lambda: notice_of(served).viewed_at) is not None
        assert notice_of(served).acknowledged_at is None
        with page.expect_navigation():
            page.get_by_role("button", name="Acknowledge receipt").tap()
        assert "acknowledged by Ada Acme" in page.content()
        assert page.locator("#security-notice-banner").count() == 0
        phone.assert_clean()
    finally:
        phone.context.close()

    staff.reload()
    assert "acknowledged" in staff.content() and "by Ada Acme" in staff.content()
    assert errors == []
    context.close()
