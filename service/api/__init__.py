"""The REST API: flask-smorest blueprints, marshmallow schemas, OpenAPI at /api/openapi.json."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from service.api import auth, cases, definitions, docs, errors, health, metrics, reports, tasks, units


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
    rest = Api(app)
    for module in (auth, definitions, cases, tasks, units, reports):
        rest.register_blueprint(module.blp)
    app.register_blueprint(health.blp)
    app.register_blueprint(docs.blp)
    metrics.init_app(app)
    errors.init_app(app)
