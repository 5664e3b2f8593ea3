"""The privacy policy's list of retention periods, written from the registry (``tenants/retention.py``).

The list sits in section 4 of the policy, in a block of its own (``<div id="retention-periods">``). A fresh
install's first version holds it; on a platform already running, ``policy_versions.sync_retention`` compares the block of the version in
force with the registry and, when a period was added, removed or changed, publishes a new version with the
block rewritten and a summary naming each change. So a period changed in the code cannot be applied without
the policy saying so."""

from __future__ import annotations

import html
import re

from markupsafe import escape

from tenants.retention import PERIODS, words

MARKER = 'id="retention-periods"'
BLOCK = re.compile(r'<div id="retention-periods">.*?</div>', re.S)
ITEM = re.compile(r'<li data-period="([a-z_]+)" data-kept="([^"]*)"><strong>(.*?)</strong>', re.S)

INTRO = {
    "fr": "Chaque durée ci-dessous est appliquée par le logiciel lui-même ; la page "
    '<a href="/privacy/retention">durées de conservation</a> dit aussi quand chacune est vérifiée.',
    "en": "The software applies each period below itself; the "
    '<a href="/privacy/retention">retention periods</a> page also says how often each is checked.',
}
SEPARATOR = {"fr": " : ", "en": ": "}
SUMMARY = {
    "fr": (
        "Durées de conservation mises à jour : ",
        "désormais dans la politique",
        "retirée",
        "leur description",
    ),
    "en": ("Retention periods updated: ", "now in the policy", "removed", "their wording"),
}


def block(language: str) -> str:
    items = "\n".join(
        f'<li data-period="{p.key}" data-kept="{p.amount} {p.unit}"><strong>{escape(p.data(language))}</strong>'
        f"{SEPARATOR[language]}{p.words(language)} {escape(p.end(language))}</li>"
        for p in PERIODS.values()
    )
    return f'<div id="retention-periods">\n<p>{INTRO[language]}</p>\n<ul>\n{items}\n</ul>\n</div>'


def with_block(body: str, language: str) -> str:
    """``body`` with the list as the registry has it: in place of the old one, or at the end of section 4."""
    new = block(language)
    if BLOCK.search(body):
        return BLOCK.sub(lambda _match: new, body, count=1)
    at = body.find("<h2>5.")
    return f"{body.rstrip()}\n\n{new}" if at < 0 else f"{body[:at]}{new}\n\n{body[at:]}"


def kept(body: str) -> dict[str, tuple[str, str]]:
    """The periods a policy text states: key → ("12 months", what it keeps)."""
    found = BLOCK.search(body)
    if not found:
        return {}
    return {key: (length, html.unescape(data)) for key, length, data in ITEM.findall(found.group(0))}


def changes(body: str, language: str) -> str:
    """What the registry changes in ``body``'s list, in words, for the new version's summary."""
    before = kept(body)
    head, added, removed, reworded = SUMMARY[language]
    if not before:
        return head + added + "."
    parts = []
    for key, p in PERIODS.items():
        if key not in before:
            parts.append(f"{p.data(language)}{SEPARATOR[language]}{p.words(language)}")
        elif before[key][0] != f"{p.amount} {p.unit}":
            amount, unit = before[key][0].split(" ", 1)
            was = words(int(amount), unit, language)
            parts.append(f"{p.data(language)}{SEPARATOR[language]}{was} → {p.words(language)}")
    parts += [
        f"{data}{SEPARATOR[language]}{removed}"
        for key, (_length, data) in before.items()
        if key not in PERIODS
    ]
    return head + (" ; " if language == "fr" else "; ").join(parts) + "."
