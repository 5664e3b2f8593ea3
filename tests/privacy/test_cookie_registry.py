"""Every cookie the app sets, on every page, is in the cookie policy with a lifetime within its limit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from blueprints.privacy.cookies import BY_NAME, REGISTRY, THIRTEEN_MONTHS
from tests.conftest import login
from tests.privacy.conftest import sign_in_staff, text, view_event

SLACK = timedelta(minutes=5)


ARGUMENTS = {"org": "acme", "kind": "privacy", "number": 1}


def _url(rule) -> str:
    url = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        value = ARGUMENTS.get(name, 1 if converter in ("IntegerConverter", "NumberConverter") else "x")
        url = re.sub(r"<(?:[^:<>]+:)?" + name + r"(?:\([^)]*\))?>", str(value), url)
    return url


def _parse(header: str) -> dict:
    name, _, rest = header.partition("=")
    value, *attributes = rest.split(";")
    parsed = {"name": name, "value": value, "attributes": {}}
    for attribute in attributes:
        key, _, val = attribute.strip().partition("=")
        parsed["attributes"][key.lower()] = val
    return parsed


def _check(header: str, where: str, secure: bool) -> None:
    cookie = _parse(header)
    entry = BY_NAME.get(cookie["name"])
    assert entry is not None, f"{where}: cookie {cookie['name']} is not in the cookie policy"
    attributes = cookie["attributes"]
    if attributes.get("max-age") == "0" or "1970" in attributes.get("expires", ""):
        return  # a deletion: nothing is kept
    assert attributes.get("samesite", "").lower() in ("lax", "strict"), (where, header)
    assert ("httponly" in attributes) == entry.http_only, (where, header)
    assert ("secure" in attributes) == secure, (where, header)
    lifetimes = []
    if "max-age" in attributes:
        lifetimes.append(timedelta(seconds=int(attributes["max-age"])))
    if "expires" in attributes:
        lifetimes.append(parsedate_to_datetime(attributes["expires"]) - datetime.now(UTC))
    if entry.lifetime is None:
        assert not lifetimes, f"{where}: {cookie['name']} must end with the browser: {header}"
    else:
        assert lifetimes, f"{where}: {cookie['name']} has no lifetime: {header}"
        assert max(lifetimes) <= entry.lifetime + SLACK, (where, header)


def test_registry_limits():
    assert {c.name for c in REGISTRY} == {
        "emarge_session",
        "emarge_remember",
        "emarge_consent",
        "emarge_audience",
    }
    assert all(c.lifetime is None or c.lifetime <= THIRTEEN_MONTHS for c in REGISTRY)
    assert BY_NAME["emarge_consent"].lifetime <= timedelta(days=183)
    assert BY_NAME["emarge_session"].lifetime is None


def test_every_set_cookie_is_in_the_cookie_policy(make_app, make_tenant):
    # Production-like cookies: Secure everywhere (the test client speaks HTTPS to keep them).
    app = make_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    make_tenant("acme", admin="ada@acme.fr")
    base = "https://localhost"
    anonymous = app.test_client()
    member = app.test_client()
    staff = app.test_client()
    seen: dict[str, set[str]] = {}

    def record(response, where):
        for header in response.headers.getlist("Set-Cookie"):
            _check(header, where, secure=True)
            seen.setdefault(_parse(header)["name"], set()).add(where)

    record(
        member.post(
            f"{base}/acme/login",
            data={"email": "ada@acme.fr", "password": "correct-horse-battery-staple", "remember": "y"},
        ),
        "login",
    )
    sign_in_staff(app, staff)
    for c in (anonymous, member, staff):
        record(c.post(f"{base}/privacy/consent", data={"choice": "accept"}), "consent")
        record(c.post(f"{base}/privacy/collect", json=view_event("/")), "collect")
    rules = [r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint != "static"]
    assert len(rules) > 15
    for rule in rules:
        url = _url(rule)
        for who, c in (("anonymous", anonymous), ("member", member), ("staff", staff)):
            record(c.get(base + url), f"{who} GET {url}")
    record(anonymous.post(f"{base}/privacy/consent", data={"choice": "refuse"}), "withdraw")
    record(member.post(f"{base}/acme/logout"), "logout")
    # Every cookie of the registry was really met, and the page lists each with its lifetime.
    assert set(seen) == set(BY_NAME)
    page = text(anonymous.get(f"{base}/privacy/cookies", headers={"Accept-Language": "en"}))
    for cookie in REGISTRY:
        assert f'data-cookie="{cookie.name}"' in page
        assert str(cookie.lifetime_text) in page
        assert str(cookie.purpose) in page
    assert "does not end when you close the browser" in page


def test_development_cookies_and_remember_me(client, make_tenant):
    response = client.post("/privacy/consent", data={"choice": "accept"})
    for header in response.headers.getlist("Set-Cookie"):
        _check(header, "consent", secure=False)
    response = client.post("/privacy/collect", json=view_event("/"))
    for header in response.headers.getlist("Set-Cookie"):
        _check(header, "collect", secure=False)

    make_tenant("acme", admin="ada@acme.fr")
    response = login(client, "acme", "ada@acme.fr", remember=True)
    remember = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("emarge_remember=")]
    assert remember
    _check(remember[0], "login", secure=False)
