"""The staff directory: a search by name, web address, billing address or admin email (through the platform's
index of hashed emails), a filter by state, pages of 50, and each organization's figures from the statistics
table the hourly job refreshes in each tenant."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import run_jobs
from tests.privacy.conftest import sign_in_staff


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def staff(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in_staff(app, client, email="sue@emarge.fr", role="support")
    return client


@pytest.fixture
def three(app, make_tenant):
    make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")
    make_tenant("globex", admin="gus@globex.fr", language="en")
    make_tenant("initech", admin="ian@initech.fr", language="en")
    from tenants.db import db
    from tenants.models import BillingProfile, Tenant

    with app.app_context():
        globex = db.session.scalar(select(Tenant).where(Tenant.slug == "globex"))
        db.session.add(
            BillingProfile(
                tenant_id=globex.id, billing_name="Globex SARL", billing_address="12 rue de Lyon, Nantes"
            )
        )
        initech = db.session.scalar(select(Tenant).where(Tenant.slug == "initech"))
        initech.end_of_service_at = initech.created_at + timedelta(days=30)
        db.session.commit()


def listed(response) -> list[str]:
    import re

    return re.findall(r"<td>/([a-z0-9-]+)/</td>", response.get_data(as_text=True))


def test_the_directory_searches_by_name_address_billing_address_and_admin_email(app, staff, three):
    assert listed(staff.get("/staff/organizations")) == ["acme", "globex", "initech"]
    assert listed(staff.get("/staff/organizations?q=GLOB")) == ["globex"]
    assert listed(staff.get("/staff/organizations?q=nantes")) == ["globex"]
    assert listed(staff.get("/staff/organizations?q=initech")) == ["initech"]
    # An admin's email finds their organization; a facilitator's does not, nor a part of an address.
    assert listed(staff.get("/staff/organizations?q= Ada@Acme.fr ")) == ["acme"]
    assert listed(staff.get("/staff/organizations?q=fred@acme.fr")) == []
    # Without an @ it is a search of names and addresses: an email domain finds nothing there.
    assert listed(staff.get("/staff/organizations?q=acme.fr")) == []
    # LIKE's wildcards are plain characters.
    assert listed(staff.get("/staff/organizations?q=%25")) == []
    assert "No organization matches." in text(staff.get("/staff/organizations?q=zzz"))


def test_the_directory_filters_by_state(app, staff, three):
    assert listed(staff.get("/staff/organizations?state=closed")) == ["initech"]
    assert listed(staff.get("/staff/organizations?state=active")) == ["acme", "globex"]
    assert listed(staff.get("/staff/organizations?state=suspended")) == []
    # An unknown state is no filter, never an error.
    assert listed(staff.get("/staff/organizations?state=nonsense")) == ["acme", "globex", "initech"]
    page = text(staff.get("/staff/organizations?state=closed"))
    assert "Closed" in page


def test_the_state_filter_and_state_of_agree_on_every_combination(app, make_tenant):
    from itertools import product

    from tenants.db import db, utcnow
    from tenants.models import STATES, Tenant, state_clause, state_of

    with app.app_context():
        now = utcnow()
        for i, (confirmed, status, ended, deleting) in enumerate(
            product((None, now), ("active", "suspended", "deleted"), (None, now), (None, now))
        ):
            db.session.add(
                Tenant(
                    slug=f"t{i}",
                    schema=f"tenant_t{i}",
                    name=f"T{i}",
                    status=status,
                    confirmed_at=confirmed,
                    end_of_service_at=ended,
                    deletion_requested_at=deleting,
                )
            )
        db.session.commit()
        rows = db.session.scalars(select(Tenant)).all()
        for state in STATES:
            by_sql = set(db.session.scalars(select(Tenant.slug).where(state_clause(state))))
            assert by_sql == {t.slug for t in rows if state_of(t) == state}, state


def test_the_figures_come_from_the_hourly_job(app, staff, three):
    from jobs import MAINTENANCE, enqueue

    page = text(staff.get("/staff/organizations?q=acme"))
    assert "Not counted yet" in page
    with app.app_context():
        enqueue("jobs.fanout.every_tenant", "jobs.statistics.refresh_stats", MAINTENANCE, queue=MAINTENANCE)
    for _ in range(2):  # the pass, the tenants' chunk
        run_jobs(app)
    page = staff.get("/staff/organizations?q=acme").get_data(as_text=True)
    assert "Not counted yet" not in page
    # Acme: 2 users (its admin and facilitator), nothing else yet; support access on request.
    assert '<td class="num">2</td><td class="num">0</td>' in page
    assert 'data-setting="on-request"' in page


def test_the_directory_pages_by_50(app, staff):
    from tenants.db import db, utcnow
    from tenants.models import Tenant

    with app.app_context():
        for i in range(120):
            db.session.add(
                Tenant(
                    slug=f"org-{i:03d}",
                    schema=f"tenant_org_{i:03d}",
                    name=f"Org {i:03d}",
                    confirmed_at=utcnow(),
                )
            )
        db.session.commit()
    first, third = staff.get("/staff/organizations"), staff.get("/staff/organizations?page=3")
    assert len(listed(first)) == 50 and listed(first)[0] == "org-000"
    assert listed(third) == [f"org-{i:03d}" for i in range(100, 120)]
    assert "120 organizations" in text(first) and "page 1 of 3" in text(first)
    assert 'rel="next"' in text(first) and 'rel="prev"' in text(third)
    # A page past the end shows the last one, a nonsense page the first.
    assert listed(staff.get("/staff/organizations?page=99")) == listed(third)
    assert listed(staff.get("/staff/organizations?page=x")) == listed(first)


def test_the_directory_is_for_staff_only(app, three):
    from tests.conftest import login

    anonymous = app.test_client()
    assert anonymous.get("/staff/organizations").status_code == 302
    user = app.test_client()
    login(user, "acme", "ada@acme.fr")
    assert user.get("/staff/organizations").status_code == 302
