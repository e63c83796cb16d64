"""The log setup of every Alur process: the API workers, the timer/outbox worker and the dev server.

One line per record, ``time LEVEL logger: message``, to stderr (granian configures its access log
itself, see :mod:`service.serve`). The formats use none of a record's caller, thread or process
fields, so the records skip gathering them (the ``logging`` documentation's "Optimization"
section): the access log writes a record per request, and each spent 10–20 µs of a worker's time
walking the stack for the caller and looking up the thread and process names.
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure() -> None:
    logging.basicConfig(level=logging.INFO, format=FORMAT)
    logging.getLogger("spiff").setLevel(logging.WARNING)  # a line per task state change otherwise
    logging._srcfile = None  # no findCaller(): no format here shows a file, line or function
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
