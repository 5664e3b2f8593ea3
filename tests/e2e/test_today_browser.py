"""Daily use in a real Chromium: a facilitator on a phone reaches today's live page from the home page in one tap
and sees the room code and every roster row without scrolling sideways; the cookie bar never covers the room
code or a signature pad; the kiosk works on a tablet in landscape. Screenshots of the home page go to artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.signing.conftest import build_world, link_path, private_redis

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
TABLET_LANDSCAPE = {"viewport": {"width": 1180, "height": 820}, "has_touch": True, "is_mobile": True}

# Nothing is drawn over ``selector``: the element found at each of its corners (just inside) is itself or in it.
UNCOVERED = """(selector) => {
  const el = document.querySelector(selector); const r = el.getBoundingClientRect();
  const points = [[r.left + 3, r.top + 3], [r.right - 3, r.top + 3], [r.left + 3, r.bottom - 3], [r.right - 3, r.bottom - 3]];
  return points.every(([x, y]) => { const hit = document.elementFromPoint(x, y); return hit && el.contains(hit); });
}"""


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.fixture
def world(app, make_tenant):
    """The signing world (a half-day open now, Fred facilitating) with a roster of long names."""
    from blueprints.participants.models import Enrollment, Participant
    from tenants import tenant_scope
    from tenants.db import db

    found = build_world(app, make_tenant)
    with tenant_scope(found.slug, app):
        for n, (first, last) in enumerate(
            [
                ("Marie-Charlotte", "de La Rochefoucauld-Montbazon"),
                ("Jean-Baptiste", "Delacroix-Vandenberghe"),
                ("Inès", "Benali"),
                ("Oliver", "Bennett"),
                ("Ελένη", "Παπαδοπούλου"),
            ]
        ):
            person = Participant(first_name=first, last_name=last, email=f"p{n}@client.fr", language="en")
            db.session.add(person)
            db.session.flush()
            db.session.add(Enrollment(session_id=found.session_id, participant_id=person.id))
        db.session.commit()
    return found


def _log_in(page, base: str, slug: str, email: str) -> None:
    page.goto(f"{base}/{slug}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Log in").click()


def test_a_facilitator_on_a_phone_reaches_the_live_page_in_one_tap(browser, app, world, live_server):
    base = live_server(WTF_CSRF_ENABLED=True, REDIS_URL=private_redis(app.config.get("REDIS_URL")))
    context = browser.new_context(**PHONE, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, base, world.slug, world.facilitator)
    # The login lands on the home page: today's half-days, the open one first among them.
    assert page.url == f"{base}/{world.slug}/"
    assert page.locator("h1").inner_text().startswith("Today")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home-facilitator-phone.png"))
    card = page.locator(f".half-day[data-slot='{world.open_slot}']")
    assert "Not signed yet:" in card.inner_text() and "Paul Martin" in card.inner_text()
    assert card.locator("[data-signed]").inner_text() == "0"
    # Paul signs from his own phone: the count moves on the home page, without a reload.
    from tests.signing.conftest import data_url, png, room_code

    trainee = browser.new_context()
    signed = trainee.request.post(
        base + link_path(app, world, world.paul),
        form={
            "slot": str(world.open_slot),
            "signature": data_url(png()),
            "code": room_code(app, world, world.open_slot),
        },
        max_redirects=0,
    )
    assert signed.status == 303
    expect(page.locator(f".half-day[data-slot='{world.open_slot}'] [data-signed]")).to_have_text(
        "1", timeout=5000
    )
    assert (
        "Paul Martin" not in page.locator(f".half-day[data-slot='{world.open_slot}'] .unsigned").inner_text()
    )
    trainee.close()
    with page.expect_navigation():
        card.get_by_role("link", name="Live page").tap()  # the one tap
    assert page.url == f"{base}/{world.slug}/slots/{world.open_slot}/live"

    width = PHONE["viewport"]["width"]
    bar = page.locator("#consent-region .consent").bounding_box()
    assert bar is not None and bar["y"] + bar["height"] <= PHONE["viewport"]["height"] + 1  # at the bottom
    # The room code is on screen without scrolling, above the bar, and nothing covers it.
    code = page.locator("#room-code").bounding_box()
    assert code["y"] >= 0 and code["y"] + code["height"] <= bar["y"], (code, bar)
    assert not _overlap(code, bar)
    assert page.evaluate(UNCOVERED, "#room-code [data-code]")
    # Every roster row within the screen's width: no sideways scrolling anywhere.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("document.getElementById('page').scrollWidth") <= width
    rows = page.locator("tr[data-participant]")
    assert rows.count() == 8
    for i in range(rows.count()):
        box = rows.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, rows.nth(i).inner_text()
    # The mark form opens with a clear label and fits, its button a finger's size.
    row = rows.nth(0)
    summary = row.locator("summary")
    assert summary.inner_text().startswith("Mark absent, late, left early")
    summary.tap()
    form = row.locator("form.mark-form")
    box = form.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    button = form.get_by_role("button", name="Record").bounding_box()
    assert button["height"] >= 44 and button["x"] + button["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(ARTIFACTS / "live-phone.png"))
    assert errors == []
    context.close()


def test_the_cookie_bar_never_covers_a_signature_pad_and_trainee_pages_have_none(
    browser, app, world, live_server
):
    base = live_server(WTF_CSRF_ENABLED=True)
    context = browser.new_context(**PHONE, locale="en-GB")
    page = context.new_page()
    _log_in(page, base, world.slug, world.facilitator)
    # Yesterday's half-day, ended: the facilitator signs it off on the phone.
    page.goto(f"{base}/{world.slug}/slots/{world.past_slot}/signoff")
    bar = page.locator("#consent-region .consent-compact")
    assert bar.is_visible()
    for name in ("Accept", "Refuse", "Choose"):
        assert bar.get_by_role("button" if name != "Choose" else "link", name=name).is_visible()
    # Equal choices: the three look alike.
    sizes = {
        (round(b["height"]),)
        for b in (bar.locator(".consent-button").nth(i).bounding_box() for i in range(3))
    }
    assert len(sizes) == 1
    page.locator("[data-pad]").scroll_into_view_if_needed()
    assert not _overlap(page.locator("[data-pad]").bounding_box(), bar.bounding_box())
    assert page.evaluate(UNCOVERED, "[data-pad]")
    # The submit button below the pad can be reached too.
    page.locator("[data-pad-submit]").scroll_into_view_if_needed()
    assert not _overlap(page.locator("[data-pad-submit]").bounding_box(), bar.bounding_box())
    assert page.evaluate(UNCOVERED, "[data-pad-submit]")

    # The facilitator's device (a trainee signs on it) and the trainee's own page: no banner at all.
    page.goto(f"{base}/{world.slug}/slots/{world.open_slot}/kiosk")
    with page.expect_navigation():
        page.get_by_role("button", name="Open the facilitator's device mode").tap()
    assert page.locator("#consent-region .consent").count() == 0
    trainee = browser.new_context(**PHONE, locale="en-GB").new_page()
    trainee.goto(base + link_path(app, world, world.paul))
    assert trainee.locator("[data-pad]").is_visible()
    assert trainee.locator("#consent-region .consent").count() == 0
    context.close()


def test_the_kiosk_works_on_a_tablet_in_landscape(browser, app, world, live_server):
    base = live_server(WTF_CSRF_ENABLED=True)
    context = browser.new_context(**TABLET_LANDSCAPE, locale="en-GB")
    page = context.new_page()
    _log_in(page, base, world.slug, world.facilitator)
    page.goto(f"{base}/{world.slug}/slots/{world.open_slot}/kiosk")
    with page.expect_navigation():
        page.get_by_role("button", name="Open the facilitator's device mode").tap()
    width, height = TABLET_LANDSCAPE["viewport"]["width"], TABLET_LANDSCAPE["viewport"]["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    names = page.locator(".kiosk-name")
    # Every name is a large target, all on the first screen.
    for i in range(names.count()):
        box = names.nth(i).bounding_box()
        assert box["height"] >= 48 and box["y"] + box["height"] <= height, names.nth(i).inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="Paul Martin").tap()
    pad = page.locator("[data-pad]").bounding_box()
    submit = page.locator("[data-pad-submit]").bounding_box()
    # The pad and its button fit the landscape screen without scrolling.
    assert pad["y"] >= 0 and submit["y"] + submit["height"] <= height, (pad, submit)
    assert pad["width"] >= 500
    page.screenshot(path=str(ARTIFACTS / "kiosk-tablet-landscape.png"))
    context.close()


@pytest.mark.parametrize("who", ["admin", "facilitator"])
def test_home_page_screenshots(browser, app, world, live_server, who):
    """The home page of an administrator and of a facilitator, on a desktop and on a phone (artifacts/)."""
    from blueprints.accounts.models import User
    from tenants import tenant_scope
    from tenants.db import db

    with tenant_scope(world.slug, app):
        for user in db.session.query(User):
            user.language = "fr"
        db.session.commit()
    base = live_server(WTF_CSRF_ENABLED=True)
    email = world.admin if who == "admin" else world.facilitator
    ARTIFACTS.mkdir(exist_ok=True)
    for name, device in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(**device, locale="fr-FR")
        page = context.new_page()
        _log_in_fr(page, base, world.slug, email)
        # The cookie choice made, the screenshots show the page itself.
        page.locator("#consent-region").get_by_role("button", name="Refuser").click()
        page.reload()
        assert page.locator("h1").inner_text().startswith("Aujourd’hui")
        assert page.locator(".half-day").count() >= 2
        if who == "admin":
            assert page.locator(".needs-action").is_visible()
        page.screenshot(path=str(ARTIFACTS / f"home-{who}-{name}.png"), full_page=True)
        context.close()


def _log_in_fr(page, base: str, slug: str, email: str) -> None:
    page.goto(f"{base}/{slug}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()


def test_a_wrong_room_code_gives_the_drawing_back_in_the_browser(browser, app, world, live_server):
    from tests.e2e.test_signing_browser import _draw_with_a_finger
    from tests.signing.conftest import room_code

    base = live_server(WTF_CSRF_ENABLED=True)
    page = browser.new_context(**PHONE, locale="en-GB").new_page()
    page.goto(base + link_path(app, world, world.paul))
    _draw_with_a_finger(page, "[data-pad]")
    page.locator("input[name=code]").fill("ZZZZZZ")
    page.wait_for_timeout(400)
    with page.expect_navigation():
        page.locator("[data-pad-submit]").tap()
    assert "room code is not valid" in page.locator("main").inner_text()
    # The drawing is back on the pad: the trainee types the right code and signs, without drawing again.
    page.wait_for_selector("[data-pad][data-pad-restored]")
    page.locator("input[name=code]").fill(room_code(app, world, world.open_slot))
    with page.expect_navigation():
        page.locator("[data-pad-submit]").tap()
    assert page.locator("#receipt").is_visible()


def test_on_a_desktop_the_mark_form_fits_the_roster_and_the_search_works_from_the_keyboard(
    browser, app, world, live_server
):
    base = live_server(WTF_CSRF_ENABLED=True)
    page = browser.new_context(**DESKTOP, locale="en-GB").new_page()
    _log_in(page, base, world.slug, world.facilitator)
    page.goto(f"{base}/{world.slug}/slots/{world.open_slot}/live")
    row = page.locator("tr[data-participant]").first
    row.locator("summary").click()
    form, table = (
        row.locator("form.mark-form").bounding_box(),
        page.locator("table.live-roster-table").bounding_box(),
    )
    # Within the table, not cut at its edge (the label was "Record…", cut off at 1366 px).
    assert form["x"] + form["width"] <= table["x"] + table["width"] + 1, (form, table)
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["viewport"]["width"]

    # The header's search, from the keyboard only: type, arrow down to a result, Enter opens it.
    page.goto(f"{base}/{world.slug}/")
    page.locator("[data-search]").focus()
    page.keyboard.type("paul")
    page.wait_for_selector("#search-live a")
    assert not page.locator("#search-live").is_hidden()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == "Paul Martin"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{base}/{world.slug}/participants/{world.paul}"
    # Escape closes the results and gives the field back.
    page.locator("[data-search]").focus()
    page.keyboard.type("zoe")
    page.wait_for_selector("#search-live a")
    page.keyboard.press("Escape")
    assert page.locator("#search-live").is_hidden()
    assert page.evaluate("document.activeElement.id") == "header-q"
