"""``alur serve --with-worker``: the web server and the worker loop as one command (``make run``).

The worker runs as it does on its own, ``alur worker``, in a child process: its loop keeps its own
signal handling, database connections and crash isolation, and nothing of the worker is reimplemented
here. This process serves the web and ends the child when it stops: Ctrl-C reaches both (the terminal
signals the whole process group), SIGTERM to this process is passed on to the child.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType

log = logging.getLogger("alur.serve")
#: seconds the worker gets to finish its sweep after SIGTERM before it is killed
STOP_GRACE = 20.0


def worker_command(interval: float) -> list[str]:
    """``alur worker`` run by this interpreter (no path into a particular venv)."""
    return [sys.executable, "-m", "service.cli", "worker", "--interval", str(interval)]


def stop_worker(worker: subprocess.Popen[bytes], grace: float = STOP_GRACE) -> int:
    """SIGTERM (the worker finishes its sweep and exits), SIGKILL if it does not within ``grace``."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log.warning("worker %d did not stop within %.0f s: killed", worker.pid, grace)
            worker.kill()
            worker.wait()
    return worker.returncode


def _watch(worker: subprocess.Popen[bytes], stopping: threading.Event) -> None:
    """Say so when the worker ends on its own: timers and mail then stand still until a restart."""
    code = worker.wait()
    if not stopping.is_set():
        log.error("the worker ended by itself (exit code %s): timers and mail stand still; restart alur serve", code)


@contextmanager
def running_worker(interval: float) -> Iterator[subprocess.Popen[bytes]]:
    """The worker child for the duration of the block; SIGTERM to this process ends the block."""

    def _terminate(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)  # unwinds the web server's loop in the main thread, then the finally below

    worker = subprocess.Popen(worker_command(interval))
    log.info("worker started (pid %d, sweep every %.1f s)", worker.pid, interval)
    stopping = threading.Event()
    threading.Thread(target=_watch, args=(worker, stopping), name="alur-worker-watch", daemon=True).start()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield worker
    finally:
        stopping.set()
        signal.signal(signal.SIGTERM, previous)
        code = stop_worker(worker)
        log.info("worker stopped (exit code %s)", code)


def serve_with_worker(serve: Callable[[], None], interval: float) -> None:
    """Run ``serve`` (blocking until Ctrl-C or SIGTERM) with the worker beside it."""
    with running_worker(interval), suppress(KeyboardInterrupt):
        serve()
