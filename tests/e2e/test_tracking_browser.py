"""The tracking reports in a real Chromium, against the app served for real (CSRF and CSP on), at a realistic
size: a session of 24 trainees × 12 half-days and the organization's year; a screenshot of each report under
artifacts/. On a phone, a trainee justifies an absence with a PDF proof; the admin accepts it."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.e2e.test_login_browser import ARTIFACTS, CSP_PROBE, Phone
from tests.tracking.conftest import tracked
from tests.tracking.test_followup import PDF, token_for

pytestmark = pytest.mark.browser

STATUSES = ("present", "present", "present", "late", "present", "absent", "present", "excused")


@pytest.fixture
def served(make_app, make_tenant):
    app = make_app(WTF_CSRF_ENABLED=True)
    make_tenant(
        "acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), name="Acme Formation", language="en"
    )
    return app


def _world(app):
    from tenants import find_tenant

    with app.app_context():
        acme = find_tenant(slug="acme")
    today = date.today()
    days = [today - timedelta(days=d) for d in range(8, 2, -1)]
    names = [f"Trainee{n:02d}" for n in range(24)]
    marks = {}
    for n, name in enumerate(names):
        for index in range(12):
            status = STATUSES[(n * 3 + index) % len(STATUSES)] if n % 5 else "present"
            attended = {"present": 180, "late": 155}.get(status, 0)
            marks[(name, index)] = (status, attended, 25 if status == "late" else 0, 0)
    big = tracked(
        app, acme, days=days, people=names, marks=marks, facilitator_email="fred@acme.fr", title="Excel"
    )
    for k, title in enumerate(("Word", "Safety at work", "Management")):
        start = today - timedelta(days=40 + 30 * k)
        tracked(
            app,
            acme,
            days=[start, start + timedelta(days=1)],
            people=[f"{title[:4]}{n}" for n in range(6)],
            marks={
                (f"{title[:4]}{n}", i): ("present", 180, 0, 0)
                for n in range(6)
                for i in range(4)
                if (n + i) % 5
            },
            title=title,
        )
    return acme, big


def test_each_report_in_a_browser_with_a_screenshot(served, live_server, browser):
    base = live_server(served)
    acme, big = _world(served)
    context = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 900})
    context.add_init_script(CSP_PROBE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/acme/login")
    page.fill("input[name=email]", "ada@acme.fr")
    page.fill("input[name=password]", "correct-horse-battery-staple")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/acme/"))
    # The cookie bar answered (it keeps the page to the window's height): the screenshots show whole pages.
    page.click("button:has-text('Refuse')")
    page.wait_for_selector("[data-consent-mode=compact]", state="detached")
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{base}/acme/sessions/{big.session_id}/attendance")
    grid = page.locator("table[data-grid]")
    assert grid.locator("tbody tr").count() == 24
    # Each cell says its state in a letter and for screen readers, not by its colour alone.
    first_cell = grid.locator("tbody tr").first.locator("td .cell").first
    assert first_cell.locator("[aria-hidden=true]").inner_text().strip() in ("P", "L", "A", "E", "?", "·")
    assert first_cell.locator(".visually-hidden").inner_text() in ("Present", "Late", "Absent", "Excused")
    page.screenshot(path=str(ARTIFACTS / "tracking-session.png"), full_page=True)

    page.click(f"a[href$='/participants/{big.people['Trainee01']}/attendance']")
    page.wait_for_url(re.compile(r"/participants/\d+/attendance$"))
    assert page.locator("[data-rate-past]").first.inner_text().endswith("%")
    page.screenshot(path=str(ARTIFACTS / "tracking-participant.png"), full_page=True)

    page.click("ul.nav >> text=Reports")
    page.wait_for_url(re.compile(r"/acme/reports$"))
    assert page.locator("svg[role=img]").count() == 5 and page.locator("table[data-breakdown]").count() == 5
    page.screenshot(path=str(ARTIFACTS / "tracking-organization.png"), full_page=True)
    # A figure leads to the records behind it.
    page.locator("table[data-breakdown=trainings] a", has_text="Excel").click()
    page.wait_for_url(re.compile(r"training=\d+"))
    assert page.locator("table[data-sessions] tbody tr").count() == 1

    page.click("text=Funders' completion figures")
    page.wait_for_url(re.compile(r"/acme/reports/funders"))
    page.screenshot(path=str(ARTIFACTS / "tracking-funders.png"), full_page=True)
    page.click("text=What an auditor would question")
    page.wait_for_url(re.compile(r"/acme/reports/anomalies"))
    page.screenshot(path=str(ARTIFACTS / "tracking-anomalies.png"), full_page=True)
    assert page.evaluate("window.__csp") == [] and errors == []

    # On a phone: a trainee justifies the absence from their link, with a PDF proof.
    proof = ARTIFACTS / "proof.pdf"
    proof.write_bytes(PDF)
    absent = next(name for name in big.people if name != "Trainee00")
    token = token_for(served, acme, big.session_id, big.people[absent])
    phone = Phone(browser, base)
    try:
        phone.page.goto(f"{base}/acme/sign/{token}/absences/")
        phone.page.select_option("select[name=reason]", "illness")
        phone.page.fill("textarea[name=text]", "Flu")
        phone.page.set_input_files("input[name=proof]", str(proof))
        with phone.page.expect_navigation():
            phone.page.locator("form[data-justify] button[type=submit]").tap()
        assert phone.page.url.endswith("done=sent")  # the trainee reads it in French, their language
        phone.page.screenshot(path=str(ARTIFACTS / "tracking-justify-phone.png"), full_page=True)
        phone.assert_clean()
    finally:
        phone.context.close()
        proof.unlink()

    page.goto(f"{base}/acme/sessions/{big.session_id}/attendance#justifications")
    page.check("input[name=decision][value=accept]")
    page.click("button:has-text('Save the decision')")
    page.wait_for_url(re.compile(r"#justifications$"))
    assert page.locator("[data-justification][data-status=accepted]").count() == 1
    assert errors == []
    context.close()
