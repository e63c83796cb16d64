"""The production server of every Alur deployment: granian, ``python -m service.serve --host H --port P --workers N``.

The Dockerfile, docker-compose.yml, the README's serve command, the nginx test fixture and the
benchmarks all start this module, so the server has one set of settings and the access log one
format everywhere.

Why granian and not gunicorn (issue 13): its HTTP layer is Rust, so less of each request's CPU is
spent in Python. benchmarks/complaints.py (PostgreSQL, 8 clients, 300 complaints, alternating runs
on one machine) measured 42.6 and 39.7 server CPU-ms per complaint under granian against 50.4 and
49.4 under gunicorn's threaded workers, about 17 % less CPU for the same requests.

The access log (:mod:`service.access_log`, written by each worker instead of granian's) keeps no client
address: not the socket's, not the ``X-Forwarded-For`` header, nor the referer or user agent — the
public follow-up paths carry tracking codes, and Alur promises the public that no IP address is
kept next to them. The path is logged without its query string. What is left is enough for
operations: time, method, path, protocol, status and duration in milliseconds.
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence

from flask import Flask
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.server import MPServer

#: the application factory, called once in each worker process (after the fork: no connection is shared)
APP_FACTORY = "service.serve:worker_app"


def worker_app() -> Flask:
    """The app of one worker process, with what start-up built frozen out of the collector's passes.

    Start-up leaves tens of thousands of long-lived objects (modules, SQLAlchemy's mappers, the
    deployed revisions' parsed specs, the routes). ``gc.freeze()`` moves them to the permanent
    generation, so a full collection, run every few hundred requests, no longer walks them all.
    Only a worker freezes: the tests build many apps in one process, and a frozen object's cycles
    are never collected. (The app is imported here, in the worker: granian's main process, which only
    starts and watches the workers, need not load it.)

    A worker on PostgreSQL listens for changes of accounts and revisions and keeps its users' credential
    rows and the startable revisions (:mod:`service.store.change_notices`), so a request does not read the
    user row, nor a start the revision.
    """
    from service.access_log import AccessLog
    from service.app import create_app, services_of

    app = create_app()
    app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]
    services_of(app).db.changes.start()
    gc.freeze()
    return app


def server(host: str, port: int, workers: int) -> MPServer:
    """The server of the application factory on ``host:port`` with ``workers`` processes.

    Worker processes (``MPServer``) whatever the interpreter: ``granian.Granian`` would run workers
    as threads of one process on a free-threaded Python.

    One blocking thread and one Rust runtime thread per worker: a request at a time per process
    (no GIL shared between request threads), as gunicorn's workers ran; more threads cost more CPU
    than they saved in the gunicorn measurements (benchmarks/RESULTS.md). HTTP/1 only and no
    websockets: nginx speaks HTTP/1.1 to its upstreams, and Alur has no websocket route. Keep-alive
    stays on, so a client — or the nginx of docker-compose.yml, which keeps upstream connections —
    does not open a TCP connection per request; granian closes one idle for 30 s (``header_read_timeout``,
    where gunicorn closed it after 5 s). A worker that dies is started again (granian stops
    instead when workers keep crashing within seconds). Logs, access log included, go to stdout; the
    access log is the workers' own (:func:`worker_app`), so granian's is off.
    """
    return MPServer(
        APP_FACTORY,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        factory=True,
        workers=workers,
        blocking_threads=1,
        runtime_threads=1,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(keep_alive=True),
        websockets=False,
        respawn_failed_workers=True,
        log_access=False,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be between 1 and 65535, not {args.port}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, not {args.workers}")
    server(args.host, args.port, args.workers).serve()


if __name__ == "__main__":
    main()
