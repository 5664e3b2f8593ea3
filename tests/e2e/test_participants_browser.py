"""The directory on a phone, in a real Chromium (CSRF and CSP on): active search, inline edit, a roster."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_login_browser import ARTIFACTS, Phone, acme_server  # noqa: F401 (fixture)
from tests.participants.conftest import add_participant, make_session

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser, acme_server, app):  # noqa: F811
    for i, (first, last, company) in enumerate(
        [
            ("Hélène", "Lefèvre", "Crédit Agricole"),
            ("Paul", "Durand", "Beta SA"),
            ("<script>x</script>", "Evil", ""),
        ]
    ):
        add_participant(app, first_name=first, last_name=last, company=company, email=f"p{i}@example.fr")
    device = Phone(browser, acme_server)
    yield device
    device.context.close()


def test_search_and_edit_a_participant_inline_on_a_phone(phone, app):
    page = phone.page
    phone.log_in()
    page.goto(f"{phone.base}/acme/participants/")
    page.wait_for_function("typeof htmx === 'object'")
    page.evaluate("window.__same_page = true")
    assert page.locator("#participant-results tbody tr").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.fill("#participant-q", "beta")
    expect(page.locator("#participant-results tbody tr")).to_have_count(1)
    assert "Paul" in page.locator("#participant-results").inner_text()

    page.locator("#participant-results").get_by_role("link", name="Edit Paul Durand").click()
    page.wait_for_selector("tr.editing form")
    page.fill("tr.editing input[name=company]", "Gamma SARL")
    page.fill("tr.editing input[name=mobile]", "06 12 34 56 78")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.locator("tr.editing").get_by_role("button", name="Save").click()
    assert info.value.status == 200 and info.value.request.headers.get("x-csrftoken")
    page.wait_for_selector("tr.editing", state="detached")
    row = page.locator("#participant-results tbody tr").first.inner_text()
    assert "Gamma SARL" in row and "06 12 34 56 78" in row
    assert page.evaluate("window.__same_page") is True
    page.fill("#participant-q", "")
    expect(page.locator("#participant-results tbody tr")).to_have_count(3)
    assert "<script>x</script>" in page.locator("#participant-results").inner_text()  # shown as text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "participants-phone.png"), full_page=True)
    phone.assert_clean()


@pytest.mark.slow  # once, on PostgreSQL where it runs: the directory test covers both back ends
def test_add_to_a_roster_on_a_phone(phone, app):
    sid = make_session(app)
    page = phone.page
    phone.log_in()
    page.goto(f"{phone.base}/acme/sessions/{sid}/roster")
    page.wait_for_function("typeof htmx === 'object'")
    page.fill(f"#enroll-q-{sid}", "hél")
    page.wait_for_selector(f"#candidates-{sid} input[type=checkbox]")
    # With the keyboard: the cookie banner may cover the bottom of a small screen.
    page.locator(f"#candidates-{sid} label", has_text="Hélène").locator("input").focus()
    page.keyboard.press("Space")
    page.select_option(f"#enroll-funder-{sid}", "opco")
    page.get_by_role("button", name="Add the ticked participants").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#roster-{sid} tbody tr[id^=enrollment-]")
    assert "OPCO" in page.locator(f"#roster-{sid} tbody").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(ARTIFACTS / "roster-phone.png"), full_page=True)
    phone.assert_clean()
