"""Log in on a phone, in a real Chromium, against the app served for real (CSRF on, CSP on)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True}

# Records what the CSP blocked, in every document the page loads (init scripts are not subject to the CSP).
CSP_PROBE = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def acme_server(make_tenant, live_server) -> str:
    """Acme (English) served for real, on the same database as ``app``; CSRF on, as in production."""
    make_tenant("acme", admin="ada@acme.fr", name="Acme Formation", language="en")
    return live_server()


class Phone:
    """A page in a phone-sized Chromium context that keeps its console errors and failed responses."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(**PHONE, locale="en-GB")
        self.context.add_init_script(CSP_PROBE)
        self.context.set_default_timeout(10_000)  # a local server answers at once; fail fast, not in 30 s
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        self.page.on("response", lambda r: self.failed.append(r.url) if r.status >= 400 else None)

    def log_in(self, email: str = "ada@acme.fr", password: str = PASSWORD, screenshot: str | None = None):
        page = self.page
        response = page.goto(f"{self.base}/acme/login")
        assert response.status == 200
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        if screenshot:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
        with page.expect_navigation():
            page.locator("main").get_by_role("button", name="Log in").tap()

    def assert_clean(self, expected_failures: set[str] = frozenset()):
        assert self.page.evaluate("window.__csp") == []
        csp_errors = [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]
        assert not csp_errors, csp_errors
        # Other than the CSP: no script error; failed loads only where expected (there is no favicon), which
        # htmx also logs ("Response Status Error Code 404 from /path") for the error responses it swaps.
        unexpected = [
            e
            for e in self.errors
            if not e.startswith("Failed to load resource")
            and not any(
                e.startswith("Response Status Error Code 4") and f" from {path}," in e
                for path in expected_failures
            )
        ]
        assert unexpected == [], self.errors
        failed = {url.removeprefix(self.base) for url in self.failed}
        assert failed <= {"/favicon.ico", *expected_failures}, failed


@pytest.fixture
def phone(browser, acme_server) -> Iterator[Phone]:
    device = Phone(browser, acme_server)
    yield device
    device.context.close()


def test_login_on_a_phone(phone):
    page = phone.page
    response = page.goto(f"{phone.base}/acme/login")
    assert response.status == 200
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.locator("h1").inner_text() == "Log in to Acme Formation"
    page.wait_for_function("typeof htmx === 'object'")
    assert page.evaluate("typeof htmx") == "object"
    # Laid out for the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    phone.assert_clean()

    phone.log_in(screenshot="login-phone.png")
    assert page.url == f"{phone.base}/acme/"
    assert page.locator("h1").inner_text().startswith("Today")
    assert "Hello, Ada" in page.locator("main").inner_text()
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(ARTIFACTS / "home-phone.png"), full_page=True)
    phone.assert_clean()


@pytest.mark.slow  # once, on PostgreSQL where it runs: the login test covers both back ends
def test_htmx_form_and_error_fragments_on_a_phone(phone):
    """An HTMX post carries the CSRF header and swaps its 422 fragment; a 404 fragment lands in #flash."""
    page = phone.page
    phone.log_in()
    page.goto(f"{phone.base}/acme/users")
    page.wait_for_function("typeof htmx === 'object'")
    page.evaluate("window.__same_page = true")

    page.fill("#invite-form input[name=email]", "not-an-email")
    with page.expect_response(lambda r: r.url.endswith("/acme/users") and r.request.method == "POST") as info:
        # Enter in the field: the implicit submission HTMX takes over (whatever a banner may cover).
        page.press("#invite-form input[name=email]", "Enter")
    response = info.value
    assert response.status == 422
    assert response.request.headers.get("hx-request") == "true"
    assert response.request.headers.get("x-csrftoken")
    page.wait_for_selector("#invite-form [aria-invalid='true']")
    assert page.evaluate("window.__same_page") is True  # swapped in place, not reloaded
    assert page.locator("header.topbar").count() == 1
    assert page.locator("#invite-form").count() == 1

    page.evaluate("htmx.ajax('GET', '/no-such-org/login', {target: '#main'})")
    page.wait_for_selector("#flash [role=alert]")
    assert page.locator("h1").first.inner_text() == "Users"  # the page itself was left alone
    assert page.evaluate("window.__same_page") is True
    phone.assert_clean({"/acme/users", "/no-such-org/login"})
