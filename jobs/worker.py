"""The RQ worker class: ``rq worker -w jobs.worker.Worker ...`` (see the README for the whole command).

It adds three things to RQ's forking worker: the Flask app is made once in the parent (the work horses inherit
it); while idle the worker enqueues the periodic jobs that are due, once per period across all workers; and it
looks for jobs whose worker died (no heartbeat for ``WORKER_HEARTBEAT_GRACE`` seconds past the last one), every
``WORKER_TICK`` seconds across all workers, instead of RQ's ten minutes. Each abandoned or killed job goes
through the one failure hook (``jobs.job_failed``): its task fails with a retry, its unsent messages go out again.
"""

from __future__ import annotations

import logging

import rq

from jobs import QUEUES, SERIALIZER, dispatch, job_failed, rq_failure, serve_jobs, tick_periodic

logger = logging.getLogger(__name__)

# Defaults of the settings WORKER_TICK, WORKER_MONITORING_INTERVAL and WORKER_HEARTBEAT_GRACE (README).
TICK = 10  # seconds between two looks at the schedule, and for abandoned jobs, while idle
JOB_MONITORING_INTERVAL = 10  # seconds between two heartbeats of a running job
HEARTBEAT_GRACE = 15  # a running job whose heartbeat is this late is abandoned (RQ's default: 60)


def clean_abandoned(connection, every: int = TICK) -> int:
    """Move the jobs whose heartbeat expired to the failed registry; RQ calls their failure callback. Once
    per ``every`` seconds across all workers."""
    from rq import Queue
    from rq.registry import StartedJobRegistry

    if not connection.set("emarge:abandoned-check", "1", nx=True, ex=every):
        return 0
    found = 0
    for name in QUEUES:
        registry = StartedJobRegistry(queue=Queue(name, connection=connection, serializer=SERIALIZER))
        expired = registry.get_expired_job_ids()
        if expired:
            found += len(expired)
            registry.cleanup()
    return found


class _Emarge:
    """What both worker classes add to RQ's."""

    def __init__(self, *args, **kwargs):
        from flask import current_app, has_app_context

        from app import create_app

        # Made once in the parent (the work horses it forks inherit it); a worker made inside an app (tests)
        # serves that one.
        self.app = current_app._get_current_object() if has_app_context() else create_app()
        config = self.app.config
        self.tick = int(config.get("WORKER_TICK") or TICK)
        self.heartbeat_grace = int(config.get("WORKER_HEARTBEAT_GRACE") or HEARTBEAT_GRACE)
        kwargs.setdefault("serializer", SERIALIZER)
        # The setting wins over ``rq worker``'s own --job-monitoring-interval, whose default (30 s) the command
        # line always passes.
        kwargs["job_monitoring_interval"] = int(
            config.get("WORKER_MONITORING_INTERVAL") or JOB_MONITORING_INTERVAL
        )
        super().__init__(*args, **kwargs)
        serve_jobs(self.app)

    def _tick(self) -> None:
        with self.app.app_context():
            tick_periodic(self.connection, lambda call: dispatch(call, self.app))
            try:
                clean_abandoned(self.connection, self.tick)
            except Exception:
                logger.exception("looking for abandoned jobs failed")

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        if timeout is None:  # burst mode: one look, then the queues as they are
            self._tick()
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        while True:
            self._tick()
            result = super().dequeue_job_and_maintain_ttl(min(timeout, self.tick), max_idle_time=self.tick)
            if result is not None or self._stop_requested:
                return result


class Worker(_Emarge, rq.Worker):
    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        # RQ adds 60 s to the monitoring interval: a dead worker's job would wait that long to be noticed.
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            return int(min(job.timeout - working_time, interval)) + self.heartbeat_grace
        return interval + self.heartbeat_grace

    def handle_work_horse_killed(self, job, retpid, ret_val, rusage):
        # The horse died (SIGKILL, out of memory): RQ fails the job but calls no failure callback for it.
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        try:
            job_failed(rq_failure(job, f"work horse killed (waitpid {ret_val})", abandoned=True), self.app)
        except Exception:
            logger.exception("failure hook for killed job %s failed", job.id)

    def main_work_horse(self, job, queue):
        from tenants.db import db

        # The horse is a fork: pooled connections belong to the parent.
        with self.app.app_context():
            db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)


class SimpleWorker(_Emarge, rq.SimpleWorker):
    """No fork: for tests and debugging. (Not a subclass of Worker: rq.Worker's forking execute_job would come
    first in the MRO, rq.SimpleWorker being a sibling of rq.Worker, not a subclass.)"""
