"""Signature images: a PNG, at most 200 KB, of sane dimensions, with enough ink (no app needed)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from blueprints.signing import images
from tests.signing.conftest import png


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 240), "white").save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a not a png", "must be a PNG"),
        (_jpeg(), "must be a PNG"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (201 * 1024), "too large"),
        (b"\x89PNG\r\n\x1a\ngarbage", "could not be read"),
        (png(2600, 300), "unexpected dimensions"),
        (png(600, 1200), "unexpected dimensions"),
        (png(80, 30), "unexpected dimensions"),
        (png(ink=False), "empty or too small"),
        (png(ink=False, mode="RGB"), "empty or too small"),
    ],
    ids=["gif", "jpeg", "too-large", "corrupt", "too-wide", "too-tall", "too-small", "transparent", "white"],
)
def test_refused(data, message):
    with pytest.raises(images.ImageProblem) as refused:
        images.check(data)
    assert message in str(refused.value)


def test_a_dot_is_not_a_signature():
    image = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    image.putpixel((10, 10), (0, 0, 0, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    with pytest.raises(images.ImageProblem):
        images.check(out.getvalue())


def test_accepted_with_a_thumbnail():
    checked = images.check(png())
    assert (checked.width, checked.height) == (600, 240) and checked.ink_pixels > 150
    thumb = Image.open(io.BytesIO(images.thumbnail(checked.data)))
    assert thumb.format == "PNG" and thumb.size[0] <= 240 and thumb.size[1] <= 120


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "Draw your signature"),
        ("data:image/jpeg;base64,AAAA", "must be a PNG"),
        ("data:image/png;base64,@@@", "could not be read"),
        ("data:image/png;base64," + "A" * 300_000, "too large"),
    ],
)
def test_data_urls(value, message):
    with pytest.raises(images.ImageProblem) as refused:
        images.from_data_url(value)
    assert message in str(refused.value)
