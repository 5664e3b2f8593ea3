"""A trainee signs on a phone (touch) in a real Chromium; the facilitator's live page, open in another browser
and served by another app instance, shows the signature within 2 seconds without a reload."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.signing.conftest import build_world, link_path, private_redis

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}
CSP_PROBE = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def two_servers(app, make_app, make_tenant, live_server) -> tuple[str, str, object]:
    """Two app instances on one database (and one Redis on PostgreSQL): two web processes, as in production."""
    world = build_world(app, make_tenant)
    redis_url = private_redis(app.config.get("REDIS_URL"))
    first = live_server(WTF_CSRF_ENABLED=True, REDIS_URL=redis_url)
    second = live_server(WTF_CSRF_ENABLED=True, REDIS_URL=redis_url)
    return first, second, world


def _draw_with_a_finger(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    cdp = page.context.new_cdp_session(page)
    x0, y0 = box["x"] + 20, box["y"] + box["height"] / 2
    points = [(x0 + i * 12, y0 + (25 if i % 4 < 2 else -25) * ((i % 2) * 2 - 1) * 0.6) for i in range(24)]
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]},
    )
    for x, y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_sign_on_a_phone_and_watch_it_live(browser, app, two_servers):
    facilitator_url, trainee_url, world = two_servers
    path = link_path(app, world, world.paul)
    errors: list[str] = []

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    desk.add_init_script(CSP_PROBE)
    live = desk.new_page()
    live.on("pageerror", lambda error: errors.append(f"live: {error}"))
    phone = browser.new_context(**PHONE, locale="en-GB")
    phone.add_init_script(CSP_PROBE)
    page = phone.new_page()
    page.on("pageerror", lambda error: errors.append(f"phone: {error}"))
    try:
        live.goto(f"{facilitator_url}/{world.slug}/login")
        live.fill("input[name=email]", world.facilitator)
        live.fill("input[name=password]", PASSWORD)
        with live.expect_navigation():
            live.locator("main").get_by_role("button", name="Log in").click()
        live.goto(f"{facilitator_url}/{world.slug}/slots/{world.open_slot}/live")
        assert live.locator("[data-signed]").inner_text() == "0"
        code = live.locator("[data-code]").inner_text().strip()
        assert len(code) == 6

        response = page.goto(f"{trainee_url}{path}")
        assert response.status == 200
        assert response.headers["referrer-policy"] == "no-referrer"
        assert page.locator("h1").inner_text() == "Sign your attendance"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # Nothing covers the pad: the element at its centre is the pad itself.
        page.locator("[data-pad]").scroll_into_view_if_needed()
        assert page.evaluate(
            """() => { const r = document.querySelector('[data-pad]').getBoundingClientRect();
                      return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2).matches('[data-pad]'); }"""
        )
        page.locator("#room-code").tap()
        page.keyboard.type(code.lower())
        # Signing with an empty pad is stopped in the page.
        page.locator("[data-pad-submit]").tap()
        assert page.locator("[data-pad-empty]").is_visible()
        _draw_with_a_finger(page, "[data-pad]")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "sign-phone.png"), full_page=True)
        # A finger lifts, then taps the button a moment later (not within a double-tap's interval).
        page.wait_for_timeout(400)
        with page.expect_navigation():
            page.locator("[data-pad-submit]").tap()
        signed_at = time.monotonic()
        assert page.locator("#receipt").is_visible()
        assert "Thank you: your signature is recorded." in page.locator("main").inner_text()
        assert page.locator("#receipt img.thumb").evaluate("img => img.naturalWidth > 0")
        page.screenshot(path=str(ARTIFACTS / "receipt-phone.png"), full_page=True)

        # The live page, in the other browser and served by the other app instance, catches up by itself.
        elapsed = None
        while time.monotonic() - signed_at < 6:
            if live.locator("[data-signed]").inner_text().strip() == "1":
                elapsed = time.monotonic() - signed_at
                break
            live.wait_for_timeout(25)
        assert elapsed is not None and elapsed < 2.0, f"the live page showed the signature after {elapsed} s"
        row = live.locator(f"tr[data-participant='{world.paul}']").inner_text()
        assert "Present" in row
        live.screenshot(path=str(ARTIFACTS / "live-desktop.png"), full_page=True)
        assert page.evaluate("window.__csp") == [] and live.evaluate("window.__csp") == []
    finally:
        desk.close()
        phone.close()
    assert errors == []
