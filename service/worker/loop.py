"""The worker loop: a thin shell around ``run_once`` so tests can call one sweep directly."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from service.commands.archive import archive_completed
from service.commands.context import Services
from service.commands.retention import purge
from service.commands.schedules import start_due_schedule
from service.commands.timers import WORKER_ACTOR, fire_due_timers
from service.engine import utc_now
from service.mail import Mailer
from service.worker.outbox import send_once

log = logging.getLogger("alur.worker")
#: a sweep fires the timers of at most this many times ``batch`` due cases
MAX_PASSES = 20
#: seconds between two retention passes of one worker (purging is per case and idempotent across workers)
RETENTION_EVERY = 3600.0


def run_once(services: Services, batch: int = 100, actor: str = WORKER_ACTOR, mailer: Mailer | None = None,
             archive: bool = False, retention: bool = False) -> bool:
    """Start the due periodic cases, fire every due timer (a batch of cases at a time), send mail.

    What is due is what was due when the sweep began, and a sweep takes at most ``batch`` scheduled
    starts and the timers of ``batch`` × :data:`MAX_PASSES` cases, so it always ends: a timer that is
    due again at once (a cycle a case fell far behind on) waits for the next sweep. Those are fired in
    batches growing once per sweep (:func:`fire_due_timers`), so a backlog goes in full batches.
    ``actor`` names the worker in the history of the cases it moves. With ``archive``, completed cases get
    their archive (a few per sweep: each is a PDF); with ``retention``, expired cases are purged.
    True if anything happened.
    """
    moment = utc_now()
    started = 0
    while started < batch and start_due_schedule(services, moment):
        started += 1
    if started:
        log.info("started %d scheduled case(s)", started)
    fired = fire_due_timers(services, now=moment, limit=batch * MAX_PASSES, actor=actor)
    if fired:
        log.info("fired %d timer(s)", fired)
    mailed = send_once(services, mailer) if mailer is not None else 0
    if mailed:
        log.info("sent %d mail(s)", mailed)
    archived = archive_completed(services, limit=5) if archive else 0
    if archived:
        log.info("archived %d completed case(s)", archived)
    if retention and (purged := purge(services, moment, dry_run=False)):
        log.info("purged %d case(s) past their retention", len(purged))
    return bool(fired) or bool(started) or bool(mailed) or bool(archived)


def run_forever(services: Services, interval: float = 5.0, actor: str = WORKER_ACTOR,
                mailer: Mailer | None = None) -> None:
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("worker %s started (sweep every %.1fs)", actor, interval)
    next_retention = 0.0
    while not stop.is_set():
        retention = time.monotonic() >= next_retention
        if retention:
            next_retention = time.monotonic() + RETENTION_EVERY
        try:
            busy = run_once(services, actor=actor, mailer=mailer, archive=True, retention=retention)
        except Exception:  # a failing sweep must not kill the worker; the next one retries
            log.exception("timer sweep failed")
            busy = False
        if not busy:
            stop.wait(interval)
    log.info("worker stopped")
