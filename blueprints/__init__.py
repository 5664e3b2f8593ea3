"""One blueprint per area."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from blueprints.accounts.views import bp as accounts
    from blueprints.audit.views import bp as audit
    from blueprints.participants.views import bp as participants
    from blueprints.privacy.views import bp as privacy
    from blueprints.public.views import bp as public
    from blueprints.settings.views import bp as settings
    from blueprints.staff import privacy as _staff_privacy_pages  # noqa: F401 - routes on the staff blueprint
    from blueprints.staff.views import bp as staff
    from blueprints.tasks.views import bp as tasks
    from blueprints.trainings.views import bp as trainings

    for bp in (public, staff, accounts, audit, tasks, trainings, settings, privacy):
        app.register_blueprint(bp)
    app.register_blueprint(participants)

    from blueprints.messages.views import bp as messages

    app.register_blueprint(messages)

    from blueprints.messages.hooks import bp as message_hooks

    app.register_blueprint(message_hooks)

    from blueprints.documents.verify import verify_bp as verify
    from blueprints.documents.views import bp as documents

    app.register_blueprint(documents)
    app.register_blueprint(verify)

    from blueprints.signing.live import init_live
    from blueprints.signing.views import bp as signing
    from blueprints.signing.views import poll_bp as signing_live

    app.register_blueprint(signing)
    app.register_blueprint(signing_live)
    init_live(app)

    from blueprints.demo import demo_command

    app.cli.add_command(demo_command)
