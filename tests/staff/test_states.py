"""An organization's state, derived from its row in one place (tenants/models.py), shown to staff."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from tenants.models import state_of

NOW = datetime(2026, 12, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("row", "state"),
    [
        ({}, "unverified"),
        ({"confirmed_at": NOW}, "active"),
        ({"confirmed_at": NOW, "status": "suspended"}, "suspended"),
        ({"confirmed_at": NOW, "end_of_service_at": NOW}, "closed"),
        ({"confirmed_at": NOW, "end_of_service_at": NOW, "deletion_requested_at": NOW}, "deletion-requested"),
        ({"confirmed_at": NOW, "status": "suspended", "deletion_requested_at": NOW}, "deletion-requested"),
        (
            {
                "confirmed_at": NOW,
                "status": "deleted",
                "end_of_service_at": NOW,
                "deletion_requested_at": NOW,
            },
            "deleted",
        ),
    ],
)
def test_each_state_follows_from_the_row(row, state):
    values = {
        "status": "active",
        "confirmed_at": None,
        "end_of_service_at": None,
        "deletion_requested_at": None,
    }
    assert state_of(SimpleNamespace(**{**values, **row})) == state


def test_the_staff_home_lists_organizations_with_their_state(app, make_tenant):
    from tests.privacy.conftest import sign_in_staff, text

    make_tenant("acme", admin="ada@acme.fr")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    sign_in_staff(app, client, role="support")
    from tenants import find_tenant
    from tenants.db import db
    from tenants.models import Tenant

    with app.app_context():
        acme = db.session.get(Tenant, find_tenant(slug="acme").id)
        assert state_of(acme) == "active"
        acme.end_of_service_at = NOW
        db.session.commit()
    assert "<td>/acme/</td><td>Clôturée</td>" in text(client.get("/staff/"))
