"""The RQ worker class: ``rq worker -w jobs.worker.Worker ...`` (see the README for the whole command).

It adds two things to RQ's forking worker: the Flask app is made once in the parent (the work horses inherit
it), and while idle the worker enqueues the periodic jobs that are due, once per period across all workers.
"""

from __future__ import annotations

import logging

import rq

from jobs import SERIALIZER, dispatch, job_app, tick_periodic

logger = logging.getLogger(__name__)

TICK = 10  # seconds between two looks at the schedule while idle


class _Emarge:
    """What both worker classes add to RQ's."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("serializer", SERIALIZER)
        super().__init__(*args, **kwargs)
        self.app = job_app()

    def _tick(self) -> None:
        with self.app.app_context():
            tick_periodic(self.connection, lambda call: dispatch(call, self.app))

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        if timeout is None:  # burst mode: one look, then the queues as they are
            self._tick()
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        while True:
            self._tick()
            result = super().dequeue_job_and_maintain_ttl(min(timeout, TICK), max_idle_time=TICK)
            if result is not None or self._stop_requested:
                return result


class Worker(_Emarge, rq.Worker):
    def main_work_horse(self, job, queue):
        from tenants.db import db

        # The horse is a fork: pooled connections belong to the parent.
        with self.app.app_context():
            db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)


class SimpleWorker(_Emarge, rq.SimpleWorker):
    """No fork: for tests and debugging. (Not a subclass of Worker: rq.Worker's forking execute_job would come
    first in the MRO, rq.SimpleWorker being a sibling of rq.Worker, not a subclass.)"""
