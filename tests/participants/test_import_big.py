"""10,000 participants through the job queue, with a progress bar that moves while the job runs."""

from __future__ import annotations

import re
import threading
import time

import pytest

from tests.participants.conftest import SLUG, make_session, text
from tests.participants.test_import import confirm, token_of, upload


@pytest.mark.slow
def test_ten_thousand_rows_through_the_job_queue(app, admin, jobs, backend):
    from sqlalchemy import func, select

    from blueprints.participants.models import Enrollment, Participant
    from blueprints.tasks.models import Task
    from tenants import tenant_scope
    from tenants.db import db

    sid = make_session(app)
    lines = ["Civilité;Prénom;Nom;Courriel;Portable;Société"]
    for i in range(10_000):
        lines.append(
            f"{'Mme' if i % 2 else 'M.'};Prénom{i};Nom{i};person{i}@example.fr;06 12 {i // 100:02d} {i % 100:02d} 00;Société {i % 37}"
        )
    data = ("\r\n".join(lines) + "\r\n").encode("cp1252")
    token = token_of(upload(admin, data, session_id=sid, funder="opco"))
    response = confirm(admin, token)
    assert response.status_code == 303
    task_id = int(re.search(r"task=(\d+)", response.location).group(1))
    bar_url = f"/{SLUG}/tasks/{task_id}"

    # Poll the bar as the browser would while the worker runs.
    seen: list[str] = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            body = text(admin.get(bar_url, headers={"HX-Request": "true"}))
            seen.append(body)
            time.sleep(0.2)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    started = time.monotonic()
    jobs()
    elapsed = time.monotonic() - started
    stop.set()
    watcher.join(10)

    final = text(admin.get(bar_url, headers={"HX-Request": "true"}))
    assert "Done." in final and "10000 added" in final
    progress = sorted({int(m) for body in seen for m in re.findall(r'value="(\d+)"', body)})
    if backend == "postgresql":
        # The bar moved through intermediate values while the transaction was still open.
        assert len([p for p in progress if 0 < p < 100]) >= 3, progress
    with tenant_scope(SLUG, app):
        task = db.session.get(Task, task_id)
        assert (task.status, task.done, task.total) == ("done", 10_000, 10_000)
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 10_000
        assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 10_000
    print(f"10,000 rows imported in {elapsed:.1f}s on {backend}")
