"""Trainings: create, edit, search, archive, duplicate; only admins change them."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from tests.conftest import login
from tests.trainings.conftest import (
    FLO,
    FRED,
    FRED_ID,
    audit_actions,
    in_acme,
    new_session,
    new_training,
    text,
)


def _training(app, training_id):
    from blueprints.trainings.models import Training
    from tenants.db import db

    with in_acme(app):
        training = db.session.get(Training, training_id)
        db.session.expunge_all()
        return training


def test_create_edit_archive_and_duplicate(app, admin):
    page = admin.get("/acme/trainings/new")
    assert page.status_code == 200 and 'name="planned_hours"' in text(page)
    training_id = new_training(
        admin,
        title="Sécurité incendie",
        reference="SST-01",
        objectives="Évacuer.",
        planned_hours="10.5",
        modality="blended",
        nature="skills_assessment",
    )
    training = _training(app, training_id)
    assert (training.title, training.reference, training.planned_hours) == (
        "Sécurité incendie",
        "SST-01",
        Decimal("10.5"),
    )
    assert (training.modality, training.nature) == ("blended", "skills_assessment")
    shown = text(admin.get(f"/acme/trainings/{training_id}"))
    assert (
        "Sécurité incendie" in shown
        and "10.5" in shown
        and "Blended" in shown
        and "Skills assessment" in shown
    )

    edited = admin.post(
        f"/acme/trainings/{training_id}/edit",
        data={
            "title": "Sécurité incendie (niveau 1)",
            "planned_hours": "7",
            "modality": "remote",
            "nature": "training_action",
        },
    )
    assert edited.status_code == 303
    assert _training(app, training_id).title == "Sécurité incendie (niveau 1)"

    assert admin.post(f"/acme/trainings/{training_id}/archive", data={"archived": "1"}).status_code == 303
    assert _training(app, training_id).archived_at is not None
    assert "Sécurité incendie" not in text(admin.get("/acme/trainings"))
    assert "Sécurité incendie" in text(admin.get("/acme/trainings?archived=1"))
    admin.post(f"/acme/trainings/{training_id}/archive", data={"archived": "0"})
    assert _training(app, training_id).archived_at is None

    copy = admin.post(f"/acme/trainings/{training_id}/duplicate")
    assert copy.status_code == 303 and "/edit" in copy.headers["Location"]
    copy_id = int(copy.headers["Location"].split("/")[-2])
    duplicate = _training(app, copy_id)
    assert duplicate.title == "Sécurité incendie (niveau 1) (copy)"
    assert (duplicate.planned_hours, duplicate.modality) == (Decimal("7"), "remote")

    assert audit_actions(app)[-5:] == [
        "training.created",
        "training.updated",
        "training.archived",
        "training.unarchived",
        "training.duplicated",
    ]


def test_invalid_training_is_refused_with_the_form(app, admin):
    response = admin.post("/acme/trainings/new", data={"title": "", "planned_hours": "", "modality": "x"})
    assert response.status_code == 422
    page = text(response)
    assert "Enter the planned number of hours." in page and 'aria-invalid="true"' in page
    from blueprints.trainings.models import Training
    from tenants.db import db

    with in_acme(app):
        assert db.session.scalar(select(func.count()).select_from(Training)) == 0
    assert "training.created" not in audit_actions(app)


def test_active_search_serves_the_page_or_the_fragment(app, admin):
    new_training(admin, title="Excel avancé", reference="XL-2")
    new_training(admin, title="Management d'équipe", reference="MGT-1")
    page = admin.get("/acme/trainings?q=excel")
    body = text(page)
    assert "<html" in body and 'hx-trigger="input changed delay:300ms, search"' in body
    assert "Excel avancé" in body and "Management" not in body
    fragment = admin.get("/acme/trainings?q=mgt", headers={"HX-Request": "true"})
    assert "HX-Request" in fragment.headers["Vary"]
    body = text(fragment)
    assert "<html" not in body and body.lstrip().startswith('<div id="training-results"')
    assert "Management" in body and "Excel" not in body
    # LIKE wildcards are searched for as text.
    assert "No training matches" in text(admin.get("/acme/trainings?q=%25", headers={"HX-Request": "true"}))


def test_facilitators_see_the_trainings_of_their_sessions_and_change_nothing(app, client, admin):
    mine = new_training(admin, title="Formation de Fred")
    others = new_training(admin, title="Formation de Flo")
    new_session(admin, mine, "2028-03-06", "2028-03-07", facilitators=[FRED_ID])
    new_session(admin, others, "2028-03-06", "2028-03-07")
    admin.post("/acme/logout")
    login(client, "acme", FRED)
    listing = text(client.get("/acme/trainings"))
    assert "Formation de Fred" in listing and "Formation de Flo" not in listing
    assert client.get(f"/acme/trainings/{mine}").status_code == 200
    assert client.get(f"/acme/trainings/{others}").status_code == 404
    assert client.get("/acme/trainings/new").status_code == 403
    assert client.post(f"/acme/trainings/{mine}/edit", data={"title": "X"}).status_code == 403
    assert client.post(f"/acme/trainings/{mine}/archive").status_code == 403
    assert _training(app, mine).title == "Formation de Fred"
    assert FLO  # the other facilitator exists and is not assigned
