"""One explicit scope (tenants/scope.py): services are handed what they need of it and never reach for the
request, the session cookie, ``g``, or the scope itself; nothing fakes a request."""

from __future__ import annotations

import ast
import os
import subprocess

from tests.architecture.test_layers import FLOORS, MODULES, ROOT, floor_of

REQUEST_STATE = {
    ("flask", "request"),
    ("flask", "session"),
    ("flask", "g"),
    ("flask", "has_request_context"),
    ("flask_login", "current_user"),
}
SCOPE_READERS = {"current_tenant", "current_scope"}


def _floor(module: str) -> str:
    return FLOORS[floor_of(module)][0]


def _offences(module: str, path: str, *, scope_readers: bool) -> list[str]:
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("flask", "flask_login"):
            found += [
                f"{module} imports {a.name}" for a in node.names if (node.module, a.name) in REQUEST_STATE
            ]
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in REQUEST_STATE
        ):
            found.append(f"{module} reads {node.value.id}.{node.attr}")
        if scope_readers and isinstance(node, ast.Call) and getattr(node.func, "id", None) in SCOPE_READERS:
            found.append(f"{module} calls {node.func.id}() (take the tenant as an argument)")
    return found


def test_services_never_read_the_request_nor_reach_for_the_scope():
    checked, offences = 0, []
    for module, path in sorted(MODULES.items()):
        floor = _floor(module)
        if floor in ("areas", "shared"):
            checked += 1
            offences += _offences(module, path, scope_readers=True)
        elif floor == "jobs":
            # A job enters its scope (tenant_job) and may read it; the request is never there.
            offences += _offences(module, path, scope_readers=False)
    assert checked > 50
    assert offences == [], "\n".join(offences)


def test_the_checker_sees_an_offence(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from flask import g, request\nfrom tenants import current_tenant\n\ndef f():\n    return current_tenant()\n"
    )
    assert len(_offences("sample", str(sample), scope_readers=True)) == 3


def test_no_fake_request_context_outside_the_tests():
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    found = []
    for path in files.stdout.split():
        if path.startswith("tests/"):
            continue
        with open(os.path.join(ROOT, path), encoding="utf-8") as source:
            if "test_request_context" in source.read():
                found.append(path)
    assert found == []


def test_a_job_builds_links_on_the_public_address_without_a_request(app, make_tenant, monkeypatch):
    """What the fake request contexts were for: ``url_for`` and the mail templates outside a request."""
    from flask import render_template_string, url_for

    from blueprints.web.urls import external_url
    from tenants import tenant_scope

    make_tenant("acme", admin="ada@acme.fr")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://emarge.example/app")
    with tenant_scope("acme", app):
        # Outside a request Flask makes links absolute by default, on the public address.
        assert url_for("accounts.login", _external=False) == "/app/acme/login"
        assert url_for("accounts.login", _external=True) == "https://emarge.example/app/acme/login"
        assert external_url("accounts.login") == "https://emarge.example/app/acme/login"
        assert render_template_string("{{ url_for('today.index') }}") == "https://emarge.example/app/acme/"
