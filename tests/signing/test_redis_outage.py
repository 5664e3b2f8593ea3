"""Redis stopped and started again around a burst of signatures (a redis-server of the test's own, never the
shared one): every signature is recorded, the live page and its change check keep answering from the database,
and the page sees every change on each side of the outage."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.messages.test_reliability import own_redis  # noqa: F401
from tests.signing.conftest import attendances, build_world, english
from tests.signing.test_live import _poll_of, _trainee_signs


@pytest.mark.slow
def test_a_burst_of_signatures_across_a_redis_outage_loses_nothing(make_app, make_tenant, backend, own_redis):  # noqa: F811
    if backend != "postgresql":
        pytest.skip("needs PostgreSQL and Redis: a redis-server process of the test's own")
    app = make_app(REDIS_URL=own_redis.url)
    world = build_world(app, make_tenant)
    facilitator = english(app.test_client())
    assert login(facilitator, world.slug, world.facilitator).status_code == 303
    live = f"/{world.slug}/slots/{world.open_slot}/live"

    def held():
        page = facilitator.get(live)
        assert page.status_code == 200
        return _poll_of(page.get_data(as_text=True))

    url, version = held()
    _trainee_signs(app, world, world.paul, world.open_slot)
    changed = facilitator.get(f"{url}?v={version}")
    assert changed.status_code == 200  # Redis up: the change is seen
    url, version = held()

    own_redis.stop()
    # The page held a Redis version; the database's is marked apart, so the page reloads once and misses nothing.
    assert facilitator.get(f"{url}?v={version}").status_code == 200
    url, version = held()
    assert version.startswith("d")
    assert facilitator.get(f"{url}?v={version}").status_code == 204
    _trainee_signs(app, world, world.zoe, world.open_slot)
    _trainee_signs(app, world, world.paul, world.remote_slot)
    assert facilitator.get(f"{url}?v={version}").status_code == 200  # seen through the database
    assert facilitator.get(live, headers={"HX-Request": "true"}).status_code == 200
    assert "Zoe" in facilitator.get(live).get_data(as_text=True)
    url, version = held()

    own_redis.start()  # back, empty: it lost every key
    assert facilitator.get(f"{url}?v={version}").status_code == 200
    url, version = held()
    _trainee_signs(app, world, world.zoe, world.remote_slot)
    assert len(attendances(app, world)) == 4
    assert {(a.participant_id, a.slot_id) for a in attendances(app, world)} == {
        (world.paul, world.open_slot),
        (world.zoe, world.open_slot),
        (world.paul, world.remote_slot),
        (world.zoe, world.remote_slot),
    }
