"""The REST API: flask-smorest blueprints, marshmallow schemas, OpenAPI at /api/openapi.json."""

from __future__ import annotations

from flask import Flask

from service.api import (
    audit,
    auth,
    case_files,
    cases,
    definitions,
    docs,
    errors,
    guards,
    health,
    limits,
    metrics,
    notifications,
    public,
    reporters,
    reports,
    revisions,
    tasks,
    units,
    users,
)
from service.commands.context import SERVICES_KEY


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Alur",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "BPMN orchestration of complaint-handling (DUMAS) and WBS SOPs"},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    settings = app.extensions[SERVICES_KEY].settings
    guards.init_app(app, settings.request_max_json_depth)  # before any route
    limits.init_app(app, settings)
    rest = errors.AlurApi(app)
    for module in (auth, users, definitions, cases, case_files, tasks, units, reports, public, reporters, audit):
        rest.register_blueprint(module.blp)
    rest.register_blueprint(notifications.blp)
    rest.register_blueprint(revisions.blp)
    rest.register_blueprint(revisions.case_blp)
    app.register_blueprint(health.blp)
    app.register_blueprint(docs.blp)
    metrics.init_app(app)
    errors.init_app(app)
