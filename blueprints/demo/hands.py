"""How the demo's people sign, and what they draw: the trainees' phones and the facilitator's tablet, a
signature as each sends it, handwritten-looking strokes and the logo. Shared by the demo's showcase
(seed.py) and its tracking (tracking.py)."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, timedelta

from blueprints.accounts.models import User

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
TABLET = "Mozilla/5.0 (Linux; Android 14; SM-X200) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


def _working_day(day: date) -> date:
    """``day``, or the first day after it that is neither a weekend nor a public holiday."""
    from blueprints.trainings.planning import public_holidays

    while day.weekday() >= 5 or day in public_holidays(day, day):
        day += timedelta(days=1)
    return day


def _sign(slot, person, bruno: User, *, at: datetime, kiosk: bool) -> None:
    """A signature as the trainee's phone sends it (with the room's code), or on the facilitator's device."""
    from blueprints.audit.services import TRAINEE, Actor
    from blueprints.signing import services as signing
    from blueprints.signing.models import FACILITATOR_DEVICE, OWN_LINK

    drawing = signature_png(person.id, variant=slot.id)
    if kiosk:
        signing.sign(slot, person, drawing, _facilitator_actor(bruno), method=FACILITATOR_DEVICE, now=at)
        return
    actor = Actor(
        kind=TRAINEE,
        label=person.full_name,
        participant_id=person.id,
        ip=f"192.0.2.{10 + person.id}",
        user_agent=PHONE,
        language=person.language,
    )
    signing.sign(
        slot,
        person,
        drawing,
        actor,
        method=OWN_LINK,
        code=signing.room_code(slot, at),
        language=person.language,
        now=at,
    )


def _facilitator_actor(bruno: User):
    from blueprints.audit.services import Actor

    return Actor.for_user(bruno, ip="192.0.2.2", user_agent=TABLET, language="fr")


# --- drawings ------------------------------------------------------------------------------------------------


def signature_png(seed: int, *, variant: int = 0, width: int = 600, height: int = 240) -> bytes:
    """A handwritten-looking stroke, the same person's from one ``seed`` (a little different each ``variant``)."""
    from PIL import Image, ImageDraw

    shape, jitter = random.Random(seed), random.Random(seed * 7919 + variant)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    steps = shape.randint(10, 16)
    points = [
        (
            30 + k * (width - 60) // steps + jitter.randint(-4, 4),
            shape.randint(height // 4, 3 * height // 4) + jitter.randint(-6, 6),
        )
        for k in range(steps + 1)
    ]
    ink = (shape.randint(5, 40), shape.randint(5, 40), shape.randint(40, 110), 255)
    draw.line(points, fill=ink, width=5, joint="curve")
    # The underline most people add.
    y = height - 40 + jitter.randint(-5, 5)
    draw.line([(points[0][0] + 20, y), (points[-1][0] - shape.randint(20, 120), y - 8)], fill=ink, width=4)
    return _png(image)


def logo_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (360, 120), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((10, 10, 110, 110), radius=18, fill=(23, 70, 140))
    draw.rectangle((52, 28, 68, 92), fill="white")  # a first-aid cross
    draw.rectangle((28, 52, 92, 68), fill="white")
    draw.text((128, 34), "Formations", fill=(23, 70, 140), font_size=28)
    # Pillow's built-in font has no accented letters.
    draw.text((128, 68), "Demo", fill=(200, 80, 20), font_size=28)
    return _png(image)


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
