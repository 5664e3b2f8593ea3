"""One blueprint per area."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from blueprints.accounts.views import bp as accounts
    from blueprints.audit.views import bp as audit
    from blueprints.public.views import bp as public
    from blueprints.staff.views import bp as staff
    from blueprints.tasks.views import bp as tasks

    for bp in (public, staff, accounts, audit, tasks):
        app.register_blueprint(bp)

    from blueprints.demo import demo_command

    app.cli.add_command(demo_command)
