"""Liveness and readiness: ``GET /api/health``."""

from __future__ import annotations

import logging

import marshmallow as ma
from flask import current_app
from sqlalchemy import text

from app.api import Blueprint
from app.errors import error_response
from app.extensions import db

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__, url_prefix="/api", description="Service health")


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "healthy"})
    database = ma.fields.String(metadata={"example": "ok"})
    environment = ma.fields.String()
    version = ma.fields.String()


@blp.route("/health")
@blp.response(200, HealthSchema, message="Service is healthy")
@blp.alt_response(503, schema=HealthSchema, description="The database cannot be reached")
def health():
    payload = {
        "environment": current_app.config["ENV_NAME"],
        "version": current_app.config["API_VERSION"],
    }
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:
        log.error("health check: database unreachable: %s", exc)
        db.session.rollback()
        payload |= {"status": "unhealthy", "database": "unreachable"}
        return error_response(
            503,
            "SERVICE_UNAVAILABLE",
            "The database cannot be reached",
            {"database": "unreachable"},
            extra={"data": payload},
        )
    return payload | {"status": "healthy", "database": "ok"}
