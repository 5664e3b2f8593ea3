"""Markdown written by staff, made safe to show: Python-Markdown turns it into HTML, then ``nh3`` (the Rust
``ammonia`` sanitizer) keeps only an allow-list of tags, attributes and link schemes. Raw HTML in the source
goes through the same list, so a ``<script>``, an ``onclick`` or a ``javascript:`` link never reaches a page or
the feed, whatever the Markdown library lets through."""

from __future__ import annotations

import markdown
import nh3
from markupsafe import Markup

# What an entry may use: paragraphs, emphasis, lists, quotes, code, links and small headings (the page has its
# own h1 and h2). Anything else is unwrapped to its text; scripts and styles lose their content too.
TAGS = frozenset(
    {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h3", "h4", "hr"}
)
ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
DROPPED_WITH_CONTENT = frozenset({"script", "style"})


def sanitize(html: str) -> str:
    """``html`` with only the allow-list left: no script, no event handler, no link but http(s) and mailto."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def to_html(source: str) -> str:
    """Markdown → sanitized HTML, as plain text (an Atom entry escapes it once more)."""
    return sanitize(markdown.markdown(source or "", extensions=["sane_lists"], output_format="html"))


def render(source: str) -> Markup:
    """Markdown → sanitized HTML, safe to put in a page as is."""
    return Markup(to_html(source))
