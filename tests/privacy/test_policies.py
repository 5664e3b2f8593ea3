"""Public policy pages in both languages, their versions, and the staff pages that maintain them."""

from __future__ import annotations

from sqlalchemy import select

from tests.privacy.conftest import text


def test_public_pages_in_french_and_english_keep_our_promises(client):
    pages = {
        "/": ("training organizations", 'lang="fr"'),
        "/privacy": ("Emarge is the data controller", "Emarge est responsable du traitement"),
        "/privacy/cookies": ("does <strong>not</strong> go away", "ne disparaît <strong>pas</strong>"),
        "/privacy/sub-processors": ("Data leaves the EU", "OVHcloud"),
        "/legal": ("Publisher", "Éditeur"),
        "/signup": ("Create your organization", 'lang="fr"'),
    }
    for url, (english, french) in pages.items():
        en = client.get(url, headers={"Accept-Language": "en"})
        fr = client.get(url, headers={"Accept-Language": "fr"})
        assert en.status_code == fr.status_code == 200, url
        assert english in en.get_data(as_text=True), url
        assert french in fr.get_data(as_text=True) or french in text(fr), url

    body = text(client.get("/privacy"))
    for promise in ("3 years", "72 hours", "13 months", "Remember me", "CNIL", "sub-processors", "export"):
        assert promise in body, promise
    for foreign in ("bsoft", "Clever Cloud", "insurance"):
        assert foreign.lower() not in body.lower()


def test_staff_publish_versions_each_dated_listed_and_readable(app, client, staff_client):
    for url in (
        "/staff/privacy/",
        "/staff/privacy/publish",
        "/staff/privacy/sub-processors",
        "/staff/audience",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"], url
    assert client.post("/staff/privacy/sub-processors/1/delete").status_code == 302

    from blueprints.privacy import policy_versions
    from tenants.db import db

    with app.app_context():
        policy_versions.publish("privacy", body_fr="<p>Deuxième</p>", body_en="<p>Second text</p>")
        db.session.commit()
    current = text(client.get("/privacy"))
    assert "Second text" in current
    assert "Version 2, last updated on" in current
    assert "/privacy/privacy/v1" in current and "/privacy/privacy/v2" in current
    old = text(client.get("/privacy/privacy/v1"))
    assert "This is a previous version" in old and "Emarge is the data controller" in old
    assert client.get("/privacy/privacy/v9").status_code == 404
    assert client.get("/privacy/nothing/v1").status_code == 404

    page = staff_client.get("/staff/privacy/publish?kind=cookies")
    assert page.status_code == 200 and "ne disparaît" in text(page)  # prefilled with the text in force
    response = staff_client.post(
        "/staff/privacy/publish",
        data={"kind": "cookies", "body_fr": "<p>Nouveau</p>", "body_en": "<p>New cookie text</p>"},
    )
    assert response.status_code == 303
    assert "New cookie text" in text(staff_client.get("/privacy/cookies"))
    assert "/privacy/cookies/v2" in text(staff_client.get("/staff/privacy/"))

    response = staff_client.post(
        "/staff/privacy/publish",
        data={"kind": "privacy", "substantial": "y", "body_fr": "<p>x</p>", "body_en": "<p>x</p>"},
    )
    assert response.status_code == 422
    assert "Say what changes" in text(response)


def test_staff_maintain_the_sub_processor_list_seeded_once(app, staff_client, client):
    from blueprints.privacy.models import SubProcessor
    from tenants.db import db

    refused = staff_client.post(
        "/staff/privacy/sub-processors",
        data={
            "name": "Far Away Inc",
            "role_fr": "Support",
            "role_en": "Support",
            "country": "USA",
            "leaves_eu": "y",
        },
    )
    assert refused.status_code == 422  # a transfer outside the EU must say how data is protected
    added = staff_client.post(
        "/staff/privacy/sub-processors",
        data={
            "name": "Far Away Inc",
            "role_fr": "Assistance",
            "role_en": "Customer support",
            "country": "USA",
            "leaves_eu": "y",
            "safeguards": "Standard contractual clauses",
            "position": "5",
        },
    )
    assert added.status_code == 303
    public = text(client.get("/privacy/sub-processors"))
    assert (
        "Far Away Inc" in public and "Customer support" in public and "Standard contractual clauses" in public
    )
    with app.app_context():
        row_id = db.session.scalars(select(SubProcessor.id).where(SubProcessor.name == "Far Away Inc")).one()
    edited = staff_client.post(
        f"/staff/privacy/sub-processors/{row_id}",
        data={
            "name": "Near Inc",
            "role_fr": "Assistance",
            "role_en": "Customer support",
            "country": "Ireland",
            "position": "5",
        },
    )
    assert edited.status_code == 303
    assert "Near Inc" in text(client.get("/privacy/sub-processors"))
    assert staff_client.post(f"/staff/privacy/sub-processors/{row_id}/delete").status_code == 303
    assert "Near Inc" not in text(client.get("/privacy/sub-processors"))
    assert staff_client.get("/staff/privacy/sub-processors/999").status_code == 404

    from blueprints.privacy import policy_versions
    from blueprints.privacy.models import PolicyVersion, SubProcessor
    from tenants.db import db

    with app.app_context():
        assert policy_versions.ensure_defaults(db.session) is False
        db.session.execute(SubProcessor.__table__.delete())
        policy_versions.ensure_defaults(db.session)
        db.session.commit()
        assert db.session.scalars(select(SubProcessor)).all() == []  # an emptied list stays empty
        kinds = db.session.scalars(select(PolicyVersion.kind).order_by(PolicyVersion.kind)).all()
        assert kinds == ["cookies", "legal", "privacy"]


def test_a_platform_made_before_the_own_services_paragraph_gets_it_as_a_new_version_once(app, client):
    """Support requests, diagnostics and the changelog are Emarge's own: a platform whose policy predates the
    sentence publishes it as a new version at its next upgrade, once; the sub-processor page says it too."""
    from blueprints.privacy import defaults, policy_versions
    from tenants.db import db

    with app.app_context():
        first = policy_versions.latest("privacy")
        assert defaults.OWN_SERVICES in first.body_fr and defaults.OWN_SERVICES in first.body_en
        (_, marker, _, _, paragraph_fr, paragraph_en) = defaults.REVISIONS[0]
        # As the policy read before this change.
        for row in policy_versions.history("privacy"):
            row.body_fr = row.body_fr.replace(paragraph_fr, "")
            row.body_en = row.body_en.replace(paragraph_en, "")
        db.session.commit()
        before = policy_versions.latest("privacy")
        assert marker not in before.body_fr
        assert policy_versions.ensure_defaults(db.session) is True
        db.session.commit()
        after = policy_versions.latest("privacy")
        assert after.number == before.number + 1 and not after.substantial
        assert after.body_fr.index(marker) < after.body_fr.index("<h2>6.")
        assert "Emarge lui-même" in after.summary_fr and "run by Emarge itself" in after.summary_en
        assert policy_versions.ensure_defaults(db.session) is False  # once
        assert policy_versions.latest("privacy").number == after.number
    page = client.get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "no third-party chat, helpdesk, error-tracking or changelog" in page
    listing = client.get("/privacy/sub-processors", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "support requests, diagnostics and the changelog are run by Emarge itself" in listing
