"""Background jobs: queue names, the one enqueue helper, periodic jobs, and the embedded runner.

With ``REDIS_URL`` jobs go to RQ (JSON serializer) and run in ``rq worker`` processes; without it they run in a
background thread of the web process. Either way a job is a module-level function that takes plain values
(ids, strings) and opens its own tenant scope through ``tenant_job``.

``enqueue`` called inside an open database transaction waits for that transaction to commit, and is dropped if
it rolls back: a job never sees rows that do not exist yet, nor acts on a change that was undone.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
import queue as queue_module
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event

logger = logging.getLogger(__name__)

MESSAGING = "messaging"
DOCUMENTS = "documents"
MAINTENANCE = "maintenance"
QUEUES = (MESSAGING, DOCUMENTS, MAINTENANCE)
SERIALIZER = "rq.serializers.JSONSerializer"
REDIS_TIMEOUT = 2.0


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str
    every: int  # seconds
    queue: str = MAINTENANCE
    args: tuple = ()


def _each_tenant(name: str, job: str, every: int, queue: str = MAINTENANCE) -> Periodic:
    """A periodic pass over every active tenant, fanned out in chunks (jobs/fanout.py)."""
    return Periodic(name, "jobs.fanout.every_tenant", every, queue, (job, queue))


def _when_due(name: str, kind: str, queue: str) -> Periodic:
    """A minute's pass over the tenants whose ``kind`` of work is due (jobs/fanout.py, tenants/work.py)."""
    return Periodic(name, "jobs.fanout.fan_out", 60, queue, (kind,))


# Periodic jobs run once per period however many workers run: a Redis key per period decides who enqueues.
# Every pass that concerns tenants fans out (jobs/fanout.py): the minute's ones to the tenants with work due,
# the others to every tenant in chunks.
SCHEDULE = (
    _when_due("sweep-messages", "message-repairs", MESSAGING),
    _when_due("sweep-tasks", "task-checks", MAINTENANCE),
    _when_due("send-reminders", "reminders", MESSAGING),
    _each_tenant("reconcile-work", "jobs.fanout.settle_work", 3600),
    _each_tenant("purge-account-tokens", "jobs.maintenance.purge_expired_tokens", 3600),
    _each_tenant("purge-stale-files", "jobs.maintenance.purge_stale_files", 3600),
    Periodic("aggregate-audience", "jobs.audience.aggregate_audience", 3600),
    Periodic("purge-audience-events", "jobs.audience.purge_audience_events", 86400),
    Periodic("drop-unconfirmed-organizations", "jobs.maintenance.drop_unconfirmed_organizations", 86400),
    _each_tenant("purge-ended-logins", "jobs.maintenance.purge_ended_logins", 86400),
    _each_tenant("purge-logs", "jobs.maintenance.purge_logs", 86400),
    Periodic("purge-platform-logs", "jobs.maintenance.purge_platform_logs", 86400),
    Periodic("purge-ended-staff-logins", "jobs.maintenance.purge_ended_staff_logins", 86400),
    Periodic("retention", "jobs.retention.run_retention", 86400),
    Periodic("remind-deletions", "jobs.platform_mail.remind_deletions", 3600, MESSAGING),
    Periodic("sweep-breach-notices", "jobs.platform_mail.sweep_breach_notices", 600, MESSAGING),
    Periodic("purge-diagnostics", "jobs.diagnostics.purge_diagnostics", 86400),
    _each_tenant("anonymise-kept-evidence", "jobs.rights.anonymise_kept_evidence", 86400),
    _each_tenant("absence-follow-up", "jobs.tracking.run_followup", 3600, MESSAGING),
    _each_tenant("purge-absence-proofs", "jobs.tracking.purge_absence_proofs", 86400),
    _each_tenant("send-certificates", "jobs.documents.send_due_certificates", 3600, DOCUMENTS),
    _each_tenant("refresh-statistics", "jobs.statistics.refresh_stats", 3600),
)


@dataclass(frozen=True)
class JobCall:
    func: str
    args: tuple
    queue: str
    delay: float = 0
    # RQ's job id when the caller needs to find the job again (a task's), else RQ chooses one.
    job_id: str | None = None
    # What the failure hook's subscribers need to know of the job (the tenant, the task it reports on).
    meta: dict | None = None


# --- one hook for every job failure --------------------------------------------------------------------------


@dataclass(frozen=True)
class JobFailure:
    """A job that raised, or whose worker died under it (``abandoned``: killed, out of memory, lost)."""

    func: str
    args: tuple
    queue: str
    meta: dict
    error: str
    abandoned: bool
    # The exception itself when the job raised in this process (for its traceback); None when abandoned.
    exception: BaseException | None = None


_failure_subscribers: dict[str, Callable[[JobFailure], None]] = {}


def on_job_failure(subscriber: Callable[[JobFailure], None]) -> Callable[[JobFailure], None]:
    """Call ``subscriber(failure)`` for every job failure, whichever backend ran the job."""
    _failure_subscribers[path_of(subscriber)] = subscriber
    return subscriber


def job_failed(failure: JobFailure, app: Flask | None = None) -> None:
    """Tell every subscriber, each in an app context of its own; one failing never stops the others."""
    app = app or job_app()
    for name, subscriber in list(_failure_subscribers.items()):
        try:
            with app.app_context():
                subscriber(failure)
        except Exception:
            logger.exception("job failure subscriber %s failed on %s", name, failure.func)


def rq_failure_callback(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's on_failure callback: a job raised, or ``StartedJobRegistry.cleanup`` found it abandoned."""
    from rq.exceptions import AbandonedJobError

    error = f"{getattr(exc_type, '__name__', exc_type)}: {exc_value}"
    abandoned = exc_type is AbandonedJobError
    failure = rq_failure(job, error, abandoned=abandoned)
    if not abandoned and isinstance(exc_value, BaseException):
        if exc_value.__traceback__ is None and traceback is not None:
            exc_value = exc_value.with_traceback(traceback)
        failure = dataclasses.replace(failure, exception=exc_value)
    job_failed(failure)


def rq_failure(job, error: str, *, abandoned: bool) -> JobFailure:
    return JobFailure(
        func=job.func_name,
        args=tuple(job.args or ()),
        queue=job.origin,
        meta=dict(job.meta or {}),
        error=error[:2000],
        abandoned=abandoned,
    )


def path_of(func: Callable | str) -> str:
    return func if isinstance(func, str) else f"{func.__module__}.{func.__name__}"


def resolve(path: str) -> Callable:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def enqueue(
    func: Callable | str,
    *args,
    queue: str = MAINTENANCE,
    delay: float = 0,
    job_id: str | None = None,
    meta: dict | None = None,
    then: Callable[[bool], object] | None = None,
) -> None:
    """Run ``func(*args)`` in the background once the current transaction commits (at once if none is open).

    ``then(handed)`` is called after the attempt, with False when the job service could not be reached.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue}")
    call = JobCall(path_of(func), args, queue, delay, job_id, meta)

    def hand_over():
        handed = dispatch(call)
        if then is not None:
            then(handed)

    on_commit(hand_over)


def on_commit(callback: Callable[[], object]) -> None:
    """Call ``callback`` once the current transaction commits, never if it rolls back; at once if none is open.

    Enqueued jobs and live-page notifications go through here, so neither announces a change that was undone.
    """
    from tenants.db import db

    session = db.session() if has_app_context() else None
    if session is not None and session.in_transaction():
        # Kept with the innermost transaction: a savepoint rolled back drops what was registered inside it.
        where = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault("emarge_jobs", []).append((where, callback))
        return
    callback()


def dispatch(call: JobCall, app: Flask | None = None) -> bool:
    """Hand ``call`` to RQ or the embedded runner. False when Redis could not be reached."""
    app = app or current_app._get_current_object()
    backend = app.extensions["emarge.jobs"]
    handed = backend.submit(call)
    if not handed and has_app_context():
        g.emarge_jobs_waiting = True
    return handed


def waiting_for_service() -> bool:
    """Some job handed over in this app context (a request) could not reach the job service: it waits in the
    database for the sweep. A page then says "queued", not "sent"."""
    return bool(g.get("emarge_jobs_waiting"))


class RedisBackend:
    def __init__(self, app: Flask):
        self.url = app.config["REDIS_URL"]
        self._redis = None

    @property
    def redis(self):
        if self._redis is None:
            from redis import Redis

            self._redis = Redis.from_url(
                self.url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
            )
        return self._redis

    def queue(self, name: str):
        from rq import Queue

        return Queue(name, connection=self.redis, serializer=SERIALIZER)

    def submit(self, call: JobCall) -> bool:
        from redis.exceptions import RedisError

        try:
            from rq import Callback

            q = self.queue(call.queue)
            options = {
                "args": call.args,
                "result_ttl": 3600,
                "failure_ttl": 7 * 86400,
                "job_id": call.job_id,
                "meta": call.meta or {},
                "on_failure": Callback(rq_failure_callback),
            }
            if call.delay:
                q.enqueue_in(timedelta(seconds=call.delay), call.func, **options)
            else:
                q.enqueue(call.func, **options)
            return True
        except RedisError:
            # The caller's rows stay as they are (pending); the periodic sweep enqueues them later.
            logger.warning("Redis unreachable: %s not enqueued", call.func, exc_info=True)
            return False


class EmbeddedBackend:
    """A worker thread inside the web process, for the embedded default: nothing to install."""

    TICK = 15

    def __init__(self, app: Flask):
        self.app = app
        self.calls: queue_module.Queue = queue_module.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_period: dict[str, int] = {}
        self._timers: set[threading.Timer] = set()
        self._closed = threading.Event()

    def submit(self, call: JobCall) -> bool:
        if self._closed.is_set():
            return False
        self._ensure_thread()
        if call.delay:
            timer = threading.Timer(call.delay, lambda: self._due(call, timer))
            timer.daemon = True
            with self._lock:
                self._timers.add(timer)
            timer.start()
        else:
            self.calls.put(call)
        return True

    def _due(self, call: JobCall, timer: threading.Timer) -> None:
        with self._lock:
            self._timers.discard(timer)
        if not self._closed.is_set():
            self.calls.put(call)

    def close(self, timeout: float = 30) -> None:
        """Stop the thread, once the job it runs (if any) ends, and drop delayed jobs (an app torn down: tests).
        Rows left pending wait for the sweep of the next start, as after any stop."""
        self._closed.set()
        with self._lock:
            timers, self._timers = list(self._timers), set()
            thread = self._thread
        for timer in timers:
            timer.cancel()
        if thread is not None and thread is not threading.current_thread():
            self.calls.put(None)  # wakes the thread up if it waits for work; it then sees it is closed
            thread.join(timeout)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="emarge-jobs", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                call = self.calls.get(timeout=self.TICK)
            except queue_module.Empty:
                self.tick()
                continue
            if self._closed.is_set():
                self.calls.task_done()
                break
            try:
                with self.app.app_context():
                    resolve(call.func)(*call.args)
            except Exception as error:
                # The diagnostics capture logs it scrubbed; the raw message may carry what a user typed.
                logger.warning("job %s failed: %s", call.func, type(error).__name__)
                failure = JobFailure(
                    call.func,
                    call.args,
                    call.queue,
                    call.meta or {},
                    f"{type(error).__name__}: {error}",
                    False,
                    error,
                )
                job_failed(failure, self.app)
            finally:
                self.calls.task_done()
            self.tick()

    def tick(self) -> None:
        now = time.time()
        for periodic in SCHEDULE:
            period = int(now // periodic.every)
            if self._last_period.get(periodic.name) != period:
                self._last_period[periodic.name] = period
                self.calls.put(JobCall(periodic.func, periodic.args, periodic.queue))

    def drain(self, timeout: float = 30) -> None:
        """Wait until every submitted job has run (tests, the CLI)."""
        deadline = time.monotonic() + timeout
        while self.calls.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.calls.unfinished_tasks:
            raise TimeoutError("jobs still running")


def tick_periodic(redis, submit: Callable[[JobCall], bool]) -> list[str]:
    """Enqueue the periodic jobs whose period began, once across every worker (SET NX per period)."""
    now = time.time()
    started = []
    for periodic in SCHEDULE:
        period = int(now // periodic.every)
        if redis.set(f"emarge:periodic:{periodic.name}:{period}", "1", nx=True, ex=periodic.every * 2):
            submit(JobCall(periodic.func, periodic.args, periodic.queue))
            started.append(periodic.name)
    return started


_job_app: Flask | None = None


def serve_jobs(app: Flask) -> None:
    """Make ``app`` the one jobs run in outside any app context (the worker process and its work horses)."""
    global _job_app
    _job_app = app


def job_app() -> Flask:
    """The app a job runs in: the current one (embedded runner, tests), else the worker's (``serve_jobs``)."""
    if has_app_context():
        return current_app._get_current_object()
    if _job_app is None:
        raise RuntimeError("no app to run jobs in: start workers with --worker-class jobs.worker.Worker")
    return _job_app


def while_closed(func: Callable) -> Callable:
    """Mark a tenant job that still runs for a closed organization (its archive, purges, retention); every
    other one is skipped there, so nothing is sent or made once its admins have closed it."""
    func.while_closed = True
    return func


def tenant_job(func: Callable) -> Callable:
    """Make ``func(*args)`` a job ``func(tenant_id, *args)`` that runs in that tenant's scope.

    An unknown or inactive tenant is skipped: a job may outlive its tenant.
    """

    @functools.wraps(func)
    def job(tenant_id: int, *args, **kwargs):
        from tenants import Actor, find_tenant, tenant_scope

        app = job_app()
        with app.app_context():
            ref = find_tenant(tenant_id=tenant_id)
        if ref is None or not ref.active:
            logger.info("%s skipped: tenant %s is gone or inactive", func.__name__, tenant_id)
            return None
        if ref.closed and not getattr(func, "while_closed", False):
            logger.info("%s skipped: tenant %s is closed", func.__name__, tenant_id)
            return None
        with tenant_scope(ref, app, actor=Actor.system(f"job {func.__name__}"), job=func):
            return func(*args, **kwargs)

    return job


def platform_job(func: Callable) -> Callable:
    @functools.wraps(func)
    def job(*args, **kwargs):
        from tenants import Actor, Scope, entered

        # The platform's scope: no tenant table can be reached; mail is translated (Flask-Babel needs a scope).
        with entered(Scope(None, Actor.system(f"job {func.__name__}"), job=func), job_app()):
            return func(*args, **kwargs)

    return job


def _after_commit(session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: its jobs wait for the outermost transaction
    callbacks = session.info.pop("emarge_jobs", None)
    if callbacks and has_app_context():
        for _, callback in callbacks:
            try:
                callback()
            except Exception:
                # The transaction is committed: a failed notification must not turn it into an error page.
                logger.exception("after-commit callback failed")


def _inside(transaction, ancestor) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _after_soft_rollback(session, previous_transaction) -> None:
    # Every rollback, a savepoint's included (after_rollback would drop the outer transaction's jobs too).
    calls = session.info.get("emarge_jobs")
    if calls:
        kept = [(where, call) for where, call in calls if not _inside(where, previous_transaction)]
        session.info["emarge_jobs"] = kept
        if len(kept) < len(calls):
            logger.info("transaction rolled back: %d job(s) not enqueued", len(calls) - len(kept))


def _after_transaction_end(session, transaction) -> None:
    # The outermost transaction ended without a commit taking its jobs (Session.close(), say): drop them, or
    # the session's next commit would run them.
    if transaction.parent is None and session.info.get("emarge_jobs"):
        dropped = session.info.pop("emarge_jobs")
        logger.info("transaction closed without commit: %d job(s) not enqueued", len(dropped))


def init_jobs(app: Flask) -> None:
    from flask_sqlalchemy.session import Session as FlaskSession

    backend = RedisBackend(app) if app.config.get("REDIS_URL") else EmbeddedBackend(app)
    app.extensions["emarge.jobs"] = backend
    if not event.contains(FlaskSession, "after_commit", _after_commit):
        event.listen(FlaskSession, "after_commit", _after_commit)
        event.listen(FlaskSession, "after_soft_rollback", _after_soft_rollback)
        event.listen(FlaskSession, "after_transaction_end", _after_transaction_end)
