"""gunicorn settings of every Alur deployment: ``gunicorn -c python:service.gunicorn_conf 'service.app:create_app()'``.

The Dockerfile, docker-compose.yml and the README's serve command load this file, so the access log
has one format everywhere. It keeps no client address: not the socket's (``%(h)s``), not the
``X-Forwarded-For`` header, nor the referer or user agent — the public follow-up paths carry
tracking codes, and Alur promises the public that no IP address is kept next to them. What is
left is enough for operations: time, method, path, protocol, status, size and duration.
"""

from __future__ import annotations

accesslog = "-"
errorlog = "-"
loglevel = "info"
#: time, "METHOD /path HTTP/x", status, bytes, seconds — and no %(h)s, {x-forwarded-for}i, %(f)s or %(a)s
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'

# Threaded workers with one thread each: a request at a time per process, as with the sync worker
# (no GIL shared between request threads), but keep-alive connections are kept open, so a client —
# or the nginx of docker-compose.yml — does not open a TCP connection per request. Measured with
# benchmarks/complaints.py (PostgreSQL, 8 clients): about 5 % less server CPU per complaint than sync
# workers; four threads per worker cost more CPU than they saved (benchmarks/RESULTS.md).
worker_class = "gthread"
threads = 1
keepalive = 5
