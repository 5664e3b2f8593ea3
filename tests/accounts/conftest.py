"""Accounts tests: every app here sends its mail to a real local SMTP server, and pages answer in English."""

from __future__ import annotations

import pytest

from tests.accounts.helpers import english


@pytest.fixture
def app(make_app, smtp_server):
    """The app of the shared fixtures (client, make_tenant, jobs), with mail going to ``smtp_server``."""
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


@pytest.fixture
def client(app):
    return english(app.test_client())


@pytest.fixture
def new_client(app):
    """Another browser on the same app."""
    return lambda: english(app.test_client())
