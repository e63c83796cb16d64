"""The worker loop: a thin shell around ``run_once`` so tests can call one sweep directly."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from service.commands.context import Services
from service.commands.schedules import start_due_schedule
from service.commands.timers import WORKER_ACTOR, fire_due_timers
from service.engine import utc_now
from service.mail import Mailer
from service.worker.outbox import send_once

log = logging.getLogger("alur.worker")


def run_once(services: Services, batch: int = 100, actor: str = WORKER_ACTOR, mailer: Mailer | None = None) -> bool:
    """Start the due periodic cases, fire every due timer (a batch of cases at a time), send mail.

    ``actor`` names the worker in the history of the cases it moves. True if anything happened.
    """
    started = 0
    while start_due_schedule(services, utc_now()):
        started += 1
    if started:
        log.info("started %d scheduled case(s)", started)
    fired_any = False
    while True:
        fired = fire_due_timers(services, limit=batch, actor=actor)
        if fired:
            log.info("fired %d timer(s)", fired)
        fired_any = fired_any or bool(fired)
        if fired < 1:
            break
    mailed = send_once(services, mailer) if mailer is not None else 0
    if mailed:
        log.info("sent %d mail(s)", mailed)
    return fired_any or bool(started) or bool(mailed)


def run_forever(services: Services, interval: float = 5.0, actor: str = WORKER_ACTOR,
                mailer: Mailer | None = None) -> None:
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("worker %s started (sweep every %.1fs)", actor, interval)
    while not stop.is_set():
        try:
            busy = run_once(services, actor=actor, mailer=mailer)
        except Exception:  # a failing sweep must not kill the worker; the next one retries
            log.exception("timer sweep failed")
            busy = False
        if not busy:
            stop.wait(interval)
    log.info("worker stopped")
