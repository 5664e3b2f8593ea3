"""In Chromium, on a phone: active search, the session page, the calendar, a signature drawn on the canvas."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_login_browser import ARTIFACTS, Phone, acme_server  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def phone(browser, acme_server):  # noqa: F811
    device = Phone(browser, acme_server)
    yield device
    device.context.close()


def test_plan_a_session_and_sign_the_settings_on_a_phone(app, phone):
    page = phone.page
    phone.log_in()
    base = f"{phone.base}/acme"
    banner = page.locator("#consent-region section.consent")
    if banner.count():  # the cookie banner would cover the buttons below: answer it
        banner.get_by_role("button", name="Refuse", exact=True).click()
        page.wait_for_selector("#consent-region .consent-saved")

    # Two trainings, then the active search narrows the list without reloading the page.
    for title in ("Excel avancé", "Management d'équipe"):
        page.goto(f"{base}/trainings/new")
        page.fill("input[name=title]", title)
        page.fill("input[name=planned_hours]", "14")
        with page.expect_navigation():
            page.locator("main").get_by_role("button", name="Create the training").tap()
    page.goto(f"{base}/trainings")
    page.wait_for_function("typeof htmx === 'object'")
    page.evaluate("window.__same_page = true")
    with page.expect_response(lambda r: "/trainings?q=" in r.url and r.status == 200):
        page.locator("#training-q").type("manag")
    expect(page.locator("#training-results")).not_to_contain_text("Excel")
    assert page.evaluate("window.__same_page") is True
    assert "Management" in page.locator("#training-results").inner_text()

    # A session over the 1 May weekend; its page lists the slots and the days left out.
    page.locator("#training-results a").first.tap()
    page.wait_for_url("**/trainings/*")
    page.locator("main").get_by_role("link", name="New session").tap()
    page.fill("input[name=start_date]", "2028-04-28")
    page.fill("input[name=end_date]", "2028-05-02")
    page.fill("input[name=location_name]", "Salle 2")
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Create the session").tap()
    assert "/sessions/" in page.url
    assert page.locator("#slots tbody tr").count() == 4
    assert "Labor Day" in page.locator(".days-off").inner_text()
    # The slots table turns into one card per slot on a phone: nothing wider than the screen.
    assert page.evaluate("document.querySelector('#slots').scrollWidth") <= 360
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "session-phone.png"), full_page=True)

    # Delete a slot in place (htmx, after a confirmation).
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: r.url.endswith("/delete") and r.status == 200):
        page.locator("#slots tbody tr").last.get_by_role("button").tap()
    expect(page.locator("#slots tbody tr")).to_have_count(3)

    page.goto(f"{base}/calendar?week=2028-W17")  # Friday 28 April; Tuesday 2 May is in the next week
    assert page.locator(".week-entry").count() == 2
    page.locator("main").get_by_role("link", name="Next week").tap()
    page.wait_for_url("**week=2028-W18")
    assert page.locator(".week-entry").count() == 1
    page.screenshot(path=str(ARTIFACTS / "calendar-phone.png"), full_page=True)

    # The representative's signature, drawn with a finger-like pointer on the canvas.
    page.goto(f"{base}/settings/")
    page.wait_for_load_state("load")
    pad = page.locator("canvas.signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 15, box["y"] + 40 + (step % 3) * 15)
    page.mouse.up()
    assert page.locator("input[name=signature_data]").input_value().startswith("data:image/png;base64,")
    page.fill("input[name=siret]", "732 829 320 00074")
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Save the settings").tap()
    assert "Settings saved." in page.locator("#flash").inner_text()
    assert page.locator("img.image-preview").count() == 1
    page.screenshot(path=str(ARTIFACTS / "settings-phone.png"), full_page=True)
    phone.assert_clean()
