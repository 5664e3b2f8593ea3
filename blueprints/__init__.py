"""The area registry: each area's tables, seed rows and kinds of periodic work for the ground, and its blueprints
for the app."""

from __future__ import annotations

from flask import Flask


def register_areas() -> None:
    """Tell the ground every area's tables and the rows a new schema needs, before the database is touched."""
    from blueprints.accounts import models as accounts_models
    from blueprints.accounts import throttle
    from blueprints.audit import models as audit_models
    from blueprints.breaches import models as breaches_models
    from blueprints.changelog import models as changelog_models
    from blueprints.diagnostics import models as diagnostics_models
    from blueprints.documents import models as documents_models
    from blueprints.messages import models as messages_models
    from blueprints.participants import models as participants_models
    from blueprints.privacy import models as privacy_models
    from blueprints.privacy.policy_versions import ensure_defaults
    from blueprints.rights import models as rights_models
    from blueprints.signing import models as signing_models
    from blueprints.staff import models as staff_models
    from blueprints.support import models as support_models
    from blueprints.tasks import models as tasks_models
    from blueprints.tracking import models as tracking_models
    from blueprints.trainings import models as trainings_models
    from tenants.schema import register_models, register_seed

    register_models(
        accounts_models,
        throttle,
        audit_models,
        tasks_models,
        messages_models,
        staff_models,
        privacy_models,
        participants_models,
        trainings_models,
        signing_models,
        documents_models,
        support_models,
        diagnostics_models,
        changelog_models,
        breaches_models,
        rights_models,
        tracking_models,
    )
    register_seed("platform", ensure_defaults)
    # The kinds of periodic work, declared where their due moment is computed (tenants/work.py): known to
    # every process, so each commit that moves one updates the platform's index.
    # The platform's index of account emails is kept by the users' own flushes, in every process.
    from blueprints.accounts import email_index  # noqa: F401
    from blueprints.messages import reminders, services  # noqa: F401
    from blueprints.tasks import services as tasks_services  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from blueprints.accounts import auth

    auth.init_app(app)
    from blueprints.diagnostics import capture

    capture.init_app(app)
    from blueprints.accounts.views import bp as accounts
    from blueprints.audit.views import bp as audit
    from blueprints.breaches.views import bp as security_notices
    from blueprints.changelog.views import bp as changelog
    from blueprints.help.views import bp as help_pages
    from blueprints.participants.views import bp as participants
    from blueprints.privacy.views import bp as privacy
    from blueprints.public.views import bp as public
    from blueprints.rights import erasure_views  # noqa: F401 - routes on the rights blueprint
    from blueprints.rights.views import bp as rights
    from blueprints.search.views import bp as search
    from blueprints.settings import access as closing_access
    from blueprints.settings import (  # noqa: F401 - routes on the settings blueprint
        archive_views,
        closing_views,
        processing_views,
        support_views,
        tracking_views,
    )

    closing_access.init_app(app)
    from blueprints.settings.views import bp as settings
    from blueprints.staff import (  # noqa: F401 - their routes are on the staff blueprint
        breach_views,
        changelog_views,
        diagnostics_views,
        privacy_views,
        request_views,  # noqa: F401 - on the staff blueprint
        team_views,
    )
    from blueprints.staff import support_views as staff_support_views  # noqa: F401 - on the staff blueprint
    from blueprints.staff.views import bp as staff
    from blueprints.support.views import bp as support_requests
    from blueprints.tasks.views import bp as tasks
    from blueprints.today.views import bp as today
    from blueprints.tracking import (  # noqa: F401 - routes on the tracking blueprint
        justification_views,
        reports_views,
    )
    from blueprints.tracking.trainee_views import bp as tracking_trainee
    from blueprints.tracking.views import bp as tracking
    from blueprints.trainings import timetable_views  # noqa: F401 - routes on the trainings blueprint
    from blueprints.trainings.views import bp as trainings

    for bp in (
        public,
        changelog,
        staff,
        accounts,
        today,
        search,
        help_pages,
        audit,
        tasks,
        trainings,
        settings,
        support_requests,
        security_notices,
        rights,
        tracking,
        tracking_trainee,
        privacy,
    ):
        app.register_blueprint(bp)
    from blueprints.participants import enrollment_views, import_views  # noqa: F401 - routes on its blueprint

    app.register_blueprint(participants)

    from blueprints.messages.views import bp as messages

    app.register_blueprint(messages)

    from blueprints.messages.webhook_views import bp as message_hooks

    app.register_blueprint(message_hooks)

    from blueprints.documents.verify_views import verify_bp as verify
    from blueprints.documents.views import bp as documents

    app.register_blueprint(documents)
    app.register_blueprint(verify)

    from blueprints.signing.live import init_live
    from blueprints.signing.live_views import poll_bp as signing_live
    from blueprints.signing.views import bp as signing

    app.register_blueprint(signing)
    from blueprints.rights.trainee_views import bp as my_data

    app.register_blueprint(my_data)
    app.register_blueprint(signing_live)
    init_live(app)

    from blueprints.demo.cli import demo_command

    app.cli.add_command(demo_command)
    from blueprints.rights.cli import privacy_cli

    app.cli.add_command(privacy_cli)
    from jobs.retention import retention_cli

    app.cli.add_command(retention_cli)
