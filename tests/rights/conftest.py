"""Personal-data tests: an app that mails through the real SMTP test server, the signing tests' world (a
session with Paul, Rita whose processing is restricted, and Zoe), pages read as text."""

from __future__ import annotations

import html

import pytest

from tests.signing.conftest import build_world


@pytest.fixture
def app(make_app, smtp_server):
    return make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)


@pytest.fixture
def world(app, make_tenant):
    return build_world(app, make_tenant)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))
