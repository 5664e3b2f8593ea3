"""Restriction of processing, extended: the person is marked on the live roster as on every list of people,
and nobody is chased about a signature they cannot give (the Today page names only those who can sign)."""

from __future__ import annotations

import html

from tests.conftest import login
from tests.signing.conftest import build_world


def test_a_restricted_person_is_marked_and_not_chased(app, make_tenant):
    world = build_world(app, make_tenant)
    facilitator = app.test_client()
    facilitator.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(facilitator, world.slug, world.facilitator).status_code == 303
    roster = html.unescape(
        facilitator.get(f"/{world.slug}/slots/{world.open_slot}/live").get_data(as_text=True)
    )
    rita_row = roster.split(f'data-participant="{world.rita}"')[1].split("</tr>")[0]
    assert "Processing restricted" in rita_row
    zoe_row = roster.split(f'data-participant="{world.zoe}"')[1].split("</tr>")[0]
    assert "Processing restricted" not in zoe_row

    admin = app.test_client()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(admin, world.slug, world.admin).status_code == 303
    today = html.unescape(admin.get(f"/{world.slug}/").get_data(as_text=True))
    assert "Zoe Petit" in today and "Paul Martin" in today  # not signed yet, named
    assert "Rita Bernard" not in today
