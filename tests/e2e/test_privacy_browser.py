"""The cookie banner and first-party measurement in a real Chromium, against the app served for real
(CSRF and CSP on). The network is watched: a refusal must mean not one request to the measurement endpoint."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

COLLECT = "/privacy/collect"
GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"


@pytest.fixture
def served(make_app):
    from flask import render_template_string

    from blueprints.privacy.measurement import never_measured

    app = make_app(WTF_CSRF_ENABLED=True)

    # What a trainee's signing page will be (issue 4): a page on the trainee base, its view never measured.
    @never_measured
    def signing_page(token):
        return render_template_string(
            '{% extends "shared/trainee_base.html" %}{% block main %}<h1>Sign</h1>'
            '<canvas id="pad" class="signature-pad"></canvas>'
            '<a href="/" data-measure="sign-out-link">Leave</a>{% endblock %}'
        )

    app.add_url_rule("/test-sign/<token>", "test_signing_page", signing_page)
    return app


@pytest.fixture
def site(served, live_server) -> str:
    return live_server(served)


class Visitor:
    """A browser context that records every request to the measurement endpoint and every script error."""

    def __init__(self, browser, base: str, *, gpc: bool = False):
        headers = {"Sec-GPC": "1"} if gpc else {}
        self.base = base
        self.context = browser.new_context(
            locale="en-GB", viewport={"width": 1280, "height": 800}, extra_http_headers=headers
        )
        if gpc:
            self.context.add_init_script(GPC)
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.collected: list[dict] = []
        self.errors: list[str] = []
        self.page.on("request", self._request)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _request(self, request):
        if request.url.startswith(self.base + COLLECT):
            self.collected.append(request.post_data_json or {})

    def goto(self, path: str):
        response = self.page.goto(self.base + path)
        assert response.status == 200, path
        self.page.wait_for_function("typeof htmx === 'object'")
        return response

    def cookies(self) -> dict:
        return {c["name"]: c for c in self.context.cookies()}

    def wait_collected(self, predicate, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(e) for e in self.collected):
                return
            self.page.wait_for_timeout(50)
        raise AssertionError(f"not collected; saw {self.collected}")

    def wait_cookie(self, name: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if name in self.cookies():
                return self.cookies()[name]
            self.page.wait_for_timeout(50)
        raise AssertionError(f"no cookie {name}: {list(self.cookies())}")

    def close(self):
        self.context.close()


@pytest.fixture
def visitor(browser, site) -> Iterator[Visitor]:
    v = Visitor(browser, site)
    yield v
    assert v.errors == [] or all("favicon" in e or "Failed to load resource" in e for e in v.errors), v.errors
    v.close()


def visible_seconds(app) -> int:
    from sqlalchemy import func

    from blueprints.privacy.models import AudienceEvent
    from tenants.db import db

    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.sum(AudienceEvent.seconds), 0)))


def stored_events(app) -> int:
    from sqlalchemy import func

    from blueprints.privacy.models import AudienceEvent
    from tenants.db import db

    with app.app_context():
        return db.session.scalar(select(func.count(AudienceEvent.id)))


def banner(page):
    return page.locator("#consent-region section.consent")


@pytest.mark.slow  # once, on PostgreSQL where it runs (the accept test covers both back ends)
def test_banner_at_the_bottom_then_refuse_means_no_measurement_at_all(visitor, served):
    page = visitor.page
    visitor.goto("/")
    box = banner(page).bounding_box()
    assert box and abs((box["y"] + box["height"]) - 800) <= 2  # at the bottom of the screen
    buttons = [
        banner(page).get_by_role(role, name=name, exact=True)
        for role, name in (("button", "Accept"), ("button", "Refuse"), ("link", "Choose"))
    ]
    sizes = {(round(b.bounding_box()["width"]), round(b.bounding_box()["height"])) for b in buttons}
    assert len(sizes) == 1  # equally visible
    colours = {
        b.evaluate("e => getComputedStyle(e).backgroundColor + getComputedStyle(e).color") for b in buttons
    }
    assert len(colours) == 1
    # Keyboard: the choices are reachable with Tab.
    page.focus("#consent-title")
    reached = set()
    for _ in range(6):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.textContent.trim()"))
    assert {"Accept", "Refuse", "Choose"} <= reached
    assert set(visitor.cookies()) <= {"emarge_session"}  # nothing but technical before a choice

    banner(page).get_by_role("button", name="Refuse", exact=True).click()
    page.wait_for_selector("#consent-region .consent-saved")
    for path in ("/signup", "/privacy", "/privacy/cookies", "/"):
        visitor.goto(path)
        assert banner(page).count() == 0
        # Decided by the page itself, not by how long the test waits: measurement is off on every page.
        assert page.locator("meta[name=emarge-audience]").get_attribute("content") == "off"
    page.locator("[data-measure]").first.click()
    page.wait_for_load_state()
    page.wait_for_timeout(300)  # and, belt and braces, no late request either
    assert visitor.collected == []
    assert stored_events(served) == 0
    assert set(visitor.cookies()) == {"emarge_session", "emarge_consent"}


def test_accept_measures_views_time_and_marked_clicks_and_the_dashboard_shows_them(visitor, served):
    from blueprints.privacy import measurement
    from tenants.db import utcnow
    from tests.privacy.conftest import sign_in_staff

    page = visitor.page
    visitor.goto("/")
    banner(page).get_by_role("button", name="Accept").click()  # HTMX: no reload, measurement starts at once
    visitor.wait_collected(lambda e: e.get("type") == "view" and e.get("path") == "/")
    cookie = visitor.wait_cookie("emarge_audience")
    lifetime = cookie["expires"] - time.time()
    assert 389 * 86400 < lifetime <= 390 * 86400 and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.wait_for_timeout(1200)  # time on page, counted while visible
    with page.expect_navigation():
        page.locator("[data-measure='home-signup']").click()
    visitor.wait_collected(lambda e: e.get("type") == "click" and e.get("target") == "home-signup")
    visitor.wait_collected(lambda e: e.get("type") == "view" and e.get("path") == "/signup")
    # The time report leaves with the page (fetch keepalive on pagehide): look for it where it lands.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and visible_seconds(served) < 1:
        page.wait_for_timeout(100)
    assert visible_seconds(served) >= 1
    assert visitor.cookies()["emarge_audience"]["expires"] == cookie["expires"]  # not extended

    staff = served.test_client()
    sign_in_staff(served, staff)
    body = staff.get("/staff/audience", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r'data-figure="visits">1<', body)
    assert re.search(r'data-figure="views">2<', body)
    assert "home-signup" in body and "/signup" in body
    with served.app_context():
        today = measurement.local_day(utcnow())
        figures = measurement.figures(today, today)
    assert figures.clicks == [("home-signup", 1)] and figures.seconds >= 1
    assert dict(figures.devices) == {"desktop": 1} and dict(figures.languages) == {"en": 1}


@pytest.mark.slow  # once, on PostgreSQL where it runs (the accept test covers both back ends)
def test_footer_link_reopens_the_choice_and_withdrawing_stops_at_once(visitor, served):
    page = visitor.page
    visitor.goto("/")
    banner(page).get_by_role("button", name="Accept").click()
    visitor.wait_collected(lambda e: e.get("type") == "view")
    visitor.goto("/privacy")
    visitor.wait_collected(lambda e: e.get("path") == "/privacy")

    # Two clicks: "Cookie settings", then "Refuse".
    page.get_by_role("link", name="Cookie settings").click()
    page.wait_for_selector("#consent-region section.consent[data-consent-mode='choose']")
    assert page.locator("#consent-region input[name=audience]").is_checked()
    # Focus moves once htmx has settled the swap (20 ms after it): wait for it rather than race it.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'consent-title'")
    before = len(visitor.collected)
    banner(page).get_by_role("button", name="Refuse", exact=True).click()
    page.wait_for_selector("#consent-region .consent-saved")
    stored, seconds = stored_events(served), visible_seconds(served)
    assert "emarge_audience" not in visitor.cookies()  # deleted with the answer
    # Still on the same page: hiding it, clicking a marked button, leaving — nothing is sent any more.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.evaluate(
        "document.querySelector('[data-measure]') && document.querySelector('[data-measure]').click()"
    )
    page.wait_for_load_state()
    visitor.goto("/signup")
    visitor.goto("/")
    page.wait_for_timeout(300)
    assert visitor.collected[before:] == []
    assert (stored_events(served), visible_seconds(served)) == (stored, seconds)  # not even the time on page


@pytest.mark.slow  # once, on PostgreSQL where it runs (the accept test covers both back ends)
def test_no_javascript_the_banner_still_works(browser, site):
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    page.goto(site + "/signup")
    page.locator("#consent-region").get_by_role("link", name="Choose").click()
    assert page.url.startswith(site + "/privacy/choices")
    page.check("#consent-region input[name=audience]")
    page.locator("#consent-region").get_by_role("button", name="Save my choice").click()
    assert page.url == site + "/signup"
    assert page.locator("#consent-region section.consent").count() == 0
    assert page.locator("meta[name=emarge-audience]").get_attribute("content") == "on"
    context.close()


@pytest.mark.slow  # once, on PostgreSQL where it runs (the accept test covers both back ends)
def test_a_visitor_with_gpc_is_never_measured(browser, site, served):
    v = Visitor(browser, site, gpc=True)
    try:
        v.goto("/")
        assert banner(v.page).count() == 0  # the browser already answered
        v.page.get_by_role("link", name="Cookie settings").click()
        v.page.wait_for_selector("#consent-region .consent-signal")
        banner(v.page).get_by_role("button", name="Accept").click()  # even an explicit yes
        v.page.wait_for_selector("#consent-region .consent-saved")
        for path in ("/signup", "/privacy", "/"):
            v.goto(path)
            assert v.page.locator("meta[name=emarge-audience]").get_attribute("content") == "off"
        v.page.locator("[data-measure]").first.click()
        v.page.wait_for_load_state()
        v.page.wait_for_timeout(300)
        assert v.collected == []
        assert stored_events(served) == 0
        assert "emarge_audience" not in v.cookies()
    finally:
        v.close()


@pytest.mark.slow  # once, on PostgreSQL where it runs (the accept test covers both back ends)
def test_a_signing_page_is_never_measured(visitor, served):
    from blueprints.privacy.models import AudienceEvent
    from tenants.db import db

    page = visitor.page
    visitor.goto("/")
    banner(page).get_by_role("button", name="Accept").click()
    visitor.wait_collected(lambda e: e.get("type") == "view")
    before = len(visitor.collected)
    page.goto(visitor.base + "/test-sign/some-token")
    assert page.locator("#pad").is_visible()
    assert page.locator("#consent-region section.consent").count() == 0  # no banner over the pad
    assert page.locator("script[src*='audience']").count() == 0
    footer_link = page.locator("footer").get_by_role("link", name="Cookie policy")
    assert footer_link.get_attribute("href") == "/privacy/cookies"
    page.wait_for_timeout(1000)
    page.locator("[data-measure='sign-out-link']").click()
    page.wait_for_load_state()
    # Leaving the signing page for a measured one: the signing page itself left no trace.
    visitor.wait_collected(lambda e: e.get("type") == "view" and e.get("path") == "/")
    assert all("test-sign" not in (e.get("path") or "") for e in visitor.collected[before:])
    with served.app_context():
        pages = db.session.scalars(select(AudienceEvent.page)).all()
    assert not [p for p in pages if "test-sign" in p]
