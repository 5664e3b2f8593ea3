"""A substantial policy change met by an HTMX request, in a real Chromium: the browser goes to the
acknowledgement page, never a page swapped inside the page (the test client cannot see that difference)."""

from __future__ import annotations

import pytest

from tests.e2e.test_login_browser import Phone

pytestmark = pytest.mark.browser


def test_an_htmx_request_leads_to_the_acknowledgement_page_as_a_whole_page(
    browser, make_app, make_tenant, live_server
):
    from blueprints.privacy import policy_versions
    from tenants.db import db

    make_tenant("acme", admin="ada@acme.fr", name="Acme Formation", language="en")
    # Published by the process that serves: another process would learn of it through Redis, or within 30 s
    # without it (tests/tenants/test_lookups.py); this test is about what the browser does.
    served = make_app(WTF_CSRF_ENABLED=True)
    acme_server = live_server(served)
    phone = Phone(browser, acme_server)
    try:
        phone.log_in()
        page = phone.page
        page.goto(f"{acme_server}/acme/trainings")
        assert page.locator("#training-q").count() == 1
        with served.app_context():
            policy_versions.publish(
                "cookies",
                body_fr="<p>Texte révisé</p>",
                body_en="<p>Revised text</p>",
                summary_fr="Nous ajoutons un sous-traitant.",
                summary_en="We add a sub-processor.",
                substantial=True,
            )
            db.session.commit()
        # The live search asks for its results fragment with HTMX.
        with page.expect_navigation(url="**/acme/privacy/acknowledge**"):
            page.fill("#training-q", "first aid")
        assert "We add a sub-processor." in page.content()
        assert page.locator("main").count() == 1  # one page, not the acknowledgement inside the trainings
        assert page.locator("#training-q").count() == 0
    finally:
        phone.context.close()
