"""The breach register: platform admins record an incident, the affected organizations' admins are emailed once
per step (through the real SMTP test server), read the notice in their app and acknowledge it; the 72-hour
deadline is elapsed time, right across a clock change; bad input is refused and nothing is made."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, login, run_jobs
from tests.privacy.conftest import sign_in_staff


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


@pytest.fixture
def orgs(app, make_tenant):
    """Acme (two admins: Ada reads English, Alan French, and a facilitator), Beta, and Gamma (not affected)."""
    acme = make_tenant("acme", admin="ada@acme.fr", facilitators=("fred@acme.fr",), language="en")
    add_admin(app, acme, "alan@acme.fr", language="fr")
    return acme, make_tenant("beta", admin="bob@beta.fr"), make_tenant("gamma", admin="gil@gamma.fr")


def add_admin(app, tenant, email: str, language: str) -> None:
    from blueprints.accounts.models import ADMIN, User
    from blueprints.accounts.passwords import hash_password
    from tenants import tenant_scope
    from tenants.db import db, utcnow

    with tenant_scope(tenant, app):
        db.session.add(
            User(
                email=email,
                first_name="Alan",
                last_name="Acme",
                role=ADMIN,
                password_hash=hash_password(PASSWORD),
                email_verified_at=utcnow(),
                language=language,
            )
        )
        db.session.commit()


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def sam(app):
    """A platform admin's signed-in browser (English, Paris time)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in_staff(app, client)
    return client


def incident(**changes) -> dict:
    form = {
        "title": "Backup copy exposed",
        "discovered_at": (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "zone": "UTC",
        "nature": ["confidentiality"],
        "data_categories": "Trainees' names, emails and signatures",
        "people_count": "120",
        "records_count": "900",
        "organizations": "acme, /beta/",
        "consequences": "Someone may have read the names and emails.",
        "measures_taken": "The copy was removed and the access key changed.",
        "measures_proposed": "Warn trainees about phishing.",
        "contact": "dpo@emarge.fr, +33 1 00 00 00 00",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def rows(app, model) -> list:
    from tenants.db import db

    with app.app_context():
        found = db.session.scalars(select(model).order_by(*model.__table__.primary_key.columns)).all()
        db.session.expunge_all()
        return found


def breaches(app):
    from blueprints.breaches.models import Breach

    return rows(app, Breach)


def notices(app):
    from blueprints.breaches.models import BreachNotice

    return rows(app, BreachNotice)


def admin_browser(app, slug: str, email: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert login(client, slug, email).status_code == 303
    return client


def test_an_incident_is_emailed_once_per_step_to_each_admin_then_viewed_and_acknowledged(
    app, orgs, sam, smtp_server
):
    recorded = sam.post("/staff/breaches/new", data=incident())
    assert recorded.status_code == 303, text(recorded)
    (breach,) = breaches(app)
    page = text(sam.get(f"/staff/breaches/{breach.id}"))
    assert re.search(r"\b68 h \d\d min left", page) or re.search(r"\b69 h 00 min left", page), page
    assert "Backup copy exposed" in text(sam.get("/staff/breaches"))

    # The incident itself: one email per admin of the two affected organizations, in each admin's language.
    assert sam.post(f"/staff/breaches/{breach.id}/notify", data={"seq": "0"}).status_code == 303
    run_jobs(app)
    ada, alan, bob = (smtp_server.to(a) for a in ("ada@acme.fr", "alan@acme.fr", "bob@beta.fr"))
    assert (len(ada), len(alan), len(bob), len(smtp_server.to("gil@gamma.fr"))) == (1, 1, 1, 0)
    assert ada[0]["Subject"] == "Security incident affecting Acme on Emarge"
    assert alan[0]["Subject"] == "Incident de sécurité concernant Acme sur Emarge"
    body = ada[0].get_body(("plain",)).get_content()
    for fact in (
        "Backup copy exposed",
        "Someone may have read",
        "The copy was removed",
        "dpo@emarge.fr",
        "120",
    ):
        assert fact in body
    assert f"/acme/security-notices/{breach.id}" in body
    # No tracking pixel, no per-recipient token: the link is the page, acknowledgement happens there.
    html_body = ada[0].get_body(("html",)).get_content()
    assert "<img" not in html_body.lower() and "?" not in smtp_server.link(ada[0])

    # Notifying the same step twice is refused, and running its job again sends nothing more.
    again = sam.post(f"/staff/breaches/{breach.id}/notify", data={"seq": "0"})
    assert again.status_code == 422 and "Already notified" in text(again)
    from jobs.platform_mail import send_breach_notice

    with app.app_context():
        for notice in notices(app):
            send_breach_notice(notice.id)
    run_jobs(app)
    assert len(smtp_server.messages) == 3
    assert all(n.sent_at and n.recipients == (2 if n.tenant_id == orgs[0].id else 1) for n in notices(app))

    # An update is appended, then notified as a follow-up: one more email per admin.
    added = sam.post(
        f"/staff/breaches/{breach.id}/updates",
        data={"body": "Only 40 people were in the copy.", "people_count": "40"},
    )
    assert added.status_code == 303
    assert sam.post(f"/staff/breaches/{breach.id}/notify", data={"seq": "1"}).status_code == 303
    run_jobs(app)
    (follow_up,) = smtp_server.to("ada@acme.fr")[1:]
    assert follow_up["Subject"] == "Update on a security incident affecting Acme on Emarge"
    assert "Only 40 people were in the copy." in follow_up.get_body(("plain",)).get_content()
    assert len(smtp_server.messages) == 6

    # In Acme's app: a banner for admins; the page; opening it is recorded by the page's POST, not the GET.
    ada_app = admin_browser(app, "acme", "ada@acme.fr")
    assert "security-notice-banner" in text(ada_app.get("/acme/"))
    assert "Backup copy exposed" in text(ada_app.get("/acme/security-notices/"))
    shown = text(ada_app.get(f"/acme/security-notices/{breach.id}"))
    assert "Only 40 people were in the copy." in shown and "data-viewed-beacon" in shown
    assert all(n.viewed_at is None for n in notices(app))
    assert ada_app.post(f"/acme/security-notices/{breach.id}/viewed").status_code == 204
    acme_notices = [n for n in notices(app) if n.tenant_id == orgs[0].id]
    assert all(n.viewed_at for n in acme_notices) and not any(n.acknowledged_at for n in acme_notices)
    acknowledged = ada_app.post(f"/acme/security-notices/{breach.id}/acknowledge")
    assert acknowledged.status_code == 303
    assert "security-notice-banner" not in text(ada_app.get("/acme/"))
    assert {n.acknowledged_by_name for n in notices(app) if n.tenant_id == orgs[0].id} == {"Ada Acme"}

    # Staff see it per organization; Beta has not acknowledged yet.
    staff_page = text(sam.get(f"/staff/breaches/{breach.id}"))
    assert "acknowledged" in staff_page and "by Ada Acme" in staff_page and "1/2" in staff_page

    # A facilitator does not see the notices; an organization that was not affected does not learn of it.
    fred = admin_browser(app, "acme", "fred@acme.fr")
    assert fred.get("/acme/security-notices/").status_code == 403
    gil = admin_browser(app, "gamma", "gil@gamma.fr")
    assert gil.get(f"/gamma/security-notices/{breach.id}").status_code == 404
    assert "Backup copy exposed" not in text(gil.get("/gamma/security-notices/"))
    assert "security-notice-banner" not in text(gil.get("/gamma/"))
    assert gil.post(f"/gamma/security-notices/{breach.id}/acknowledge").status_code == 404

    log = text(sam.get("/staff/team/log"))
    for action in ("recorded a security incident", "appended an update", "notified the organizations"):
        assert action in log


def test_the_deadline_is_72_hours_of_elapsed_time_across_the_clock_change(app, orgs, sam):
    from blueprints.breaches import services

    # Friday 23 October 2026, 12:00 in Paris (summer time, UTC+2); the clocks go back on Sunday 25 at 03:00.
    discovered = services.local_to_utc(datetime(2026, 10, 23, 12, 0), "Europe/Paris")
    assert discovered == datetime(2026, 10, 23, 10, 0, tzinfo=UTC)
    recorded = sam.post(
        "/staff/breaches/new", data=incident(discovered_at="2026-10-23T12:00", zone="Europe/Paris")
    )
    assert recorded.status_code == 303, text(recorded)
    (breach,) = breaches(app)
    assert breach.discovered_at == discovered
    assert services.deadline_of(breach) == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
    # In winter time that is 11:00 in Paris, not the 12:00 that "three days later, same time" would say.
    page = text(sam.get(f"/staff/breaches/{breach.id}"))
    assert "26 Oct 2026 11:00 (Europe/Paris)" in page and "26 Oct 2026 10:00 UTC" in page
    assert "26 Oct 2026 12:00" not in page

    # Counting down through the night the clocks change: the hour that repeats is counted once more.
    at_2_30_summer = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first of the two
    left = services.countdown(breach, None, at_2_30_summer)
    assert (left.state, left.hours, left.minutes) == ("open", 33, 30)
    late = services.countdown(breach, None, datetime(2026, 10, 26, 10, 1, tzinfo=UTC))
    assert (late.state, late.hours, late.minutes) == ("overdue", 0, 1)
    notified = services.countdown(breach, datetime(2026, 10, 26, 9, 0, tzinfo=UTC))
    assert notified.state == "notified" and notified.on_time and notified.hours == 71

    # A staff member in Martinique (UTC-4, no clock change) sees the same moment in their time.
    from blueprints.staff.models import Staff
    from tenants.db import db

    with app.app_context():
        db.session.execute(Staff.__table__.update().values(timezone="America/Martinique"))
        db.session.commit()
    page = text(sam.get(f"/staff/breaches/{breach.id}"))
    assert "26 Oct 2026 06:00 (America/Martinique)" in page and "26 Oct 2026 10:00 UTC" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"discovered_at": (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")},
            "cannot be in the future",
        ),
        ({"discovered_at": "2026-03-29T02:30", "zone": "Europe/Paris"}, "does not exist in Europe/Paris"),
        ({"discovered_at": "2026-10-25T02:30", "zone": "Europe/Paris"}, "happened twice in Europe/Paris"),
        ({"discovered_at": ""}, "Give the day and time"),
        ({"organizations": "acme nope"}, "No organization has the address /nope/"),
        ({"organizations": ""}, "Name the organizations affected"),
        ({"nature": None}, "at least one"),
        ({"consequences": "  "}, "This is part of every notice"),
        ({"people_count": "-5"}, "A whole number, or empty if unknown."),
        ({"records_count": "lots"}, "A whole number, or empty if unknown."),
    ],
)
def test_bad_incidents_are_refused_with_their_message_and_nothing_is_recorded(
    app, orgs, sam, changes, message
):
    refused = sam.post("/staff/breaches/new", data=incident(**changes))
    assert refused.status_code == 422 and message in text(refused)
    assert "Backup copy exposed" in text(refused)  # what was typed is kept
    from blueprints.breaches.models import BreachOrganization

    assert breaches(app) == [] and rows(app, BreachOrganization) == []


def test_steps_out_of_order_a_second_decision_and_support_staff_are_refused(app, orgs, sam, smtp_server):
    sam.post("/staff/breaches/new", data=incident(organizations="", all_organizations="y"))
    (breach,) = breaches(app)
    from blueprints.breaches.models import BreachOrganization

    # "Every organization" is the three that exist now, frozen in the register.
    assert {o.slug for o in rows(app, BreachOrganization)} == {"acme", "beta", "gamma"}
    no_update = sam.post(f"/staff/breaches/{breach.id}/notify", data={"seq": "1"})
    assert no_update.status_code == 422 and "has no update 1" in text(no_update)
    sam.post(f"/staff/breaches/{breach.id}/updates", data={"body": "More is known."})
    early = sam.post(f"/staff/breaches/{breach.id}/notify", data={"seq": "1"})
    assert early.status_code == 422 and "Notify the incident itself first" in text(early)
    empty = sam.post(f"/staff/breaches/{breach.id}/updates", data={"body": " "})
    assert empty.status_code == 422 and "Write what was learnt" in text(empty)
    assert notices(app) == []
    blank = sam.post(f"/staff/breaches/{breach.id}/not-notified", data={"reason": ""})
    assert blank.status_code == 422 and "Give the reason" in text(blank)

    sam.post(f"/staff/breaches/{breach.id}/notify", data={"seq": "0"})
    after = sam.post(f"/staff/breaches/{breach.id}/not-notified", data={"reason": "No risk."})
    assert after.status_code == 422 and "already notified" in text(after)
    assert breaches(app)[0].not_notified_reason is None

    # Support staff may not open the register (it is the platform admins').
    sue = app.test_client()
    sign_in_staff(app, sue, email="sue@emarge.fr", role="support")
    assert sue.get("/staff/breaches").status_code == 403
    assert sue.post("/staff/breaches/new", data=incident()).status_code == 403
    assert sue.post(f"/staff/breaches/{breach.id}/notify", data={"seq": "1"}).status_code == 403
    assert len(breaches(app)) == 1


def test_the_register_keeps_every_incident_and_exports_as_csv(app, orgs, sam):
    sam.post("/staff/breaches/new", data=incident(title='=HYPERLINK("http://evil")', organizations="gamma"))
    sam.post(
        "/staff/breaches/new", data=incident(title="Printer queue visible", people_count="", records_count="")
    )
    older, newer = breaches(app)
    decided = sam.post(
        f"/staff/breaches/{older.id}/not-notified",
        data={"reason": "The file was encrypted and the key was not exposed: no risk to anyone."},
    )
    assert decided.status_code == 303
    sam.post(f"/staff/breaches/{newer.id}/notify", data={"seq": "0"})
    register = text(sam.get("/staff/breaches"))
    assert (
        "Not notified" in register
        and "The file was encrypted" in register
        and "Printer queue visible" in register
    )
    # A decision not to notify is final; the incident stays.
    twice = sam.post(f"/staff/breaches/{older.id}/not-notified", data={"reason": "Again"})
    assert twice.status_code == 422 and "already recorded" in text(twice)

    export = sam.get("/staff/breaches.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig")), delimiter=";"))
    header, *lines = table
    assert len(lines) == 2 and header[0] == "Number"
    by_title = {line[1]: dict(zip(header, line, strict=True)) for line in lines}
    assert '\'=HYPERLINK("http://evil")' in by_title  # a formula is never run by the spreadsheet
    not_sent = by_title['\'=HYPERLINK("http://evil")']
    assert (
        not_sent["Not notified because"].startswith("The file was encrypted")
        and not_sent["Notified (UTC)"] == ""
    )
    sent = by_title["Printer queue visible"]
    assert (
        sent["Within 72 hours"] == "yes" and sent["Acknowledged by"] == "0/2" and sent["Organizations"] == "2"
    )
    assert sent["People (latest estimate)"] == ""


def test_a_notice_not_delivered_is_sent_by_the_sweep_later(app, orgs, sam, smtp_server, monkeypatch):
    from jobs.platform_mail import DELIVERY_FAILED, sweep_breach_notices

    sam.post("/staff/breaches/new", data=incident(organizations="beta"))
    (breach,) = breaches(app)
    # The mail server refuses connections for now: the notice stays undelivered, tried once.
    monkeypatch.setitem(app.config, "MAIL_PORT", 9)
    sam.post(f"/staff/breaches/{breach.id}/notify", data={"seq": "0"})
    run_jobs(app)
    (notice,) = notices(app)
    assert (notice.sent_at, notice.problem, notice.attempts) == (None, DELIVERY_FAILED, 1)
    assert "delivery failed" in text(sam.get(f"/staff/breaches/{breach.id}"))
    from blueprints.breaches.services import claim
    from jobs.platform_mail import BREACH_HOLD

    with app.app_context():  # the run that just tried holds it: a second run at once takes nothing
        assert not claim(notice.id, datetime.now(UTC), hold=BREACH_HOLD)
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)
    with app.app_context():
        assert sweep_breach_notices() == 0  # too soon after the last try
        later = (datetime.now(UTC) + timedelta(minutes=11)).isoformat()
        assert sweep_breach_notices(later) == 1
    run_jobs(app)
    (notice,) = notices(app)
    assert notice.sent_at is not None and notice.problem is None and notice.attempts == 2
    assert len(smtp_server.to("bob@beta.fr")) == 1


def test_support_acting_as_an_admin_neither_views_nor_acknowledges(app, orgs, sam):
    from tests.support.test_sessions import give_access, start

    sam.post("/staff/breaches/new", data=incident())
    (breach,) = breaches(app)
    sam.post(f"/staff/breaches/{breach.id}/notify", data={"seq": "0"})
    give_access(app, "write")
    support = app.test_client()
    support.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in_staff(app, support, email="sue@emarge.fr", role="support")
    assert (
        start(app, support, user="ada@acme.fr", mode="write", write_reason="Check a notice").status_code
        == 303
    )
    page = text(support.get(f"/acme/security-notices/{breach.id}"))
    assert "Backup copy exposed" in page and "Acknowledge receipt" not in page
    assert support.post(f"/acme/security-notices/{breach.id}/viewed").status_code == 204
    refused = support.post(f"/acme/security-notices/{breach.id}/acknowledge")
    assert refused.status_code == 403 and "acknowledging a security notice" in text(refused)
    acme = [n for n in notices(app) if n.tenant_id == orgs[0].id]
    assert all(n.viewed_at is None and n.acknowledged_at is None for n in acme)
    from tenants.db import db

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(type(acme[0]))) == 2
