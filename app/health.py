"""Liveness and readiness: ``GET /api/health``."""

from __future__ import annotations

import logging

import marshmallow as ma
from flask import current_app, jsonify
from sqlalchemy import text

from app.api import Blueprint, ErrorEnvelopeSchema, envelope_schema
from app.errors import error_response
from app.extensions import db

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__, url_prefix="/api", description="Service health")


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "healthy"})
    database = ma.fields.String(metadata={"example": "ok"})
    environment = ma.fields.String()
    version = ma.fields.String()


class ProbeFields(ma.Schema):
    """What load balancers and uptime checks read: at the top level of either envelope."""

    status = ma.fields.String(required=True, metadata={"example": "healthy"})
    database = ma.fields.String(required=True, metadata={"example": "ok"})


class HealthEnvelopeSchema(ProbeFields, envelope_schema(HealthSchema, many=False, paginated=False)):
    pass


class UnhealthyEnvelopeSchema(ProbeFields, ErrorEnvelopeSchema):
    data = ma.fields.Nested(HealthSchema)


@blp.route("/health")
@blp.alt_response(200, schema=HealthEnvelopeSchema, description="Service is healthy")
@blp.alt_response(503, schema=UnhealthyEnvelopeSchema, description="The database cannot be reached")
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
            extra={"data": payload} | _probe(payload),
        )
    payload |= {"status": "healthy", "database": "ok"}
    # Load balancers and uptime checks read "status" at the top level; clients read "data".
    return jsonify(
        {"success": True, "message": "Service is healthy", "data": payload} | _probe(payload)
    )


def _probe(payload: dict) -> dict:
    return {"status": payload["status"], "database": payload["database"]}
