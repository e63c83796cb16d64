# syntax=docker/dockerfile:1
# Alur API / worker image.
#   docker build -t alur:local .
#   docker run --rm -p 127.0.0.1:8000:8000 -e ALUR_DATABASE_URL=... alur:local
# The same image runs the worker: `docker run ... alur:local alur worker`.

# --- front-end assets: bpmn-js, htmx and the JS islands, built into service/web/static/dist/ ---
FROM node:20-bookworm-slim AS assets
WORKDIR /src
# `npm ci`, as `make assets`: exactly package-lock.json, integrity hashes checked.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime ---
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ALUR_DATA_DIR=/data

RUN groupadd --system --gid 10001 alur \
    && useradd --system --uid 10001 --gid alur --home-dir /app --no-create-home --shell /usr/sbin/nologin alur \
    && mkdir -p /app /data \
    && chown alur:alur /data

WORKDIR /app
# The locked dependencies of '.[server]' (hashes checked; compiled by `make lock`) in a layer of their
# own, then the package itself without resolving anything again.
COPY requirements/server.txt /app/requirements/server.txt
RUN pip install --require-hashes -r /app/requirements/server.txt
COPY . /app/
COPY --from=assets /src/service/web/static/dist/ /app/service/web/static/dist/
RUN pip install --no-deps . \
    && rm -rf /app/build /app/*.egg-info \
    && mkdir -p /app/instance \
    && chown alur:alur /app/instance

USER alur:alur
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

# service/serve.py: granian with the access log without client addresses (no IP is kept)
CMD ["python", "-m", "service.serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
