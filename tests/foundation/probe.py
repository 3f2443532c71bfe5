"""A probe blueprint that exercises every cross-cutting piece (envelopes, pagination,
errors, limits, idempotency, audit), mounted on a fresh ``create_app("testing")``."""

from __future__ import annotations

import threading

import marshmallow as ma
from sqlalchemy import select

from app import create_app
from app.api import Blueprint
from app.auth.access import login_required
from app.common.audit import record_audit
from app.common.idempotency import idempotent
from app.common.models import AuditLog, JobRun
from app.errors import Conflict, ProviderError
from app.extensions import db, limiter
from app.fields import Money, Phone, Timestamp
from app.pagination import PaginationSchema, paginate

# A POST with {"behaviour": "wait"} blocks until a test sets this (in-progress races).
release_waiting = threading.Event()
calls = {"write": 0}


class AuditSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    action = ma.fields.String(dump_only=True)
    actor_id = ma.fields.Integer(dump_only=True)
    details = ma.fields.Dict(dump_only=True)
    created_at = Timestamp(dump_only=True)


class WriteSchema(ma.Schema):
    action = ma.fields.String(required=True)
    amount = Money(load_default=None)
    phone = Phone(load_default=None)
    behaviour = ma.fields.String(
        load_default="ok",
        validate=ma.validate.OneOf(["ok", "conflict", "crash", "provider", "wait"]),
    )


probe = Blueprint("probe", __name__, url_prefix="/api/probe", description="Test probe")


@probe.route("/audits")
@probe.arguments(PaginationSchema, location="query")
@probe.response(200, AuditSchema, paginated=True)
def list_audits(params):
    return paginate(select(AuditLog).order_by(AuditLog.id), params)


@probe.route("/audits", methods=["POST"])
@probe.arguments(WriteSchema)
@login_required
@idempotent
@probe.response(201, AuditSchema, message="Recorded")
def write_audit(data):
    calls["write"] += 1
    if data["behaviour"] == "wait":  # before writing: SQLite would block the other request
        assert release_waiting.wait(timeout=30)
    details = {"amount": str(data["amount"]), "phone": data["phone"]}
    entry = record_audit(data["action"], details=details)
    db.session.flush()
    if data["behaviour"] == "conflict":
        raise Conflict("Already done", code="ALREADY_DONE", details={"action": data["action"]})
    if data["behaviour"] == "provider":
        raise ProviderError()
    if data["behaviour"] == "crash":
        raise RuntimeError("secret internals: password=hunter2")
    db.session.commit()
    return entry


class EchoSchema(ma.Schema):
    data = ma.fields.Raw(required=True)


@probe.route("/echo", methods=["POST"])
@probe.arguments(EchoSchema)
@probe.response(200)
def echo(body):
    return body["data"]


@probe.route("/crash")
@probe.response(200)
def crash():
    raise RuntimeError("secret internals: password=hunter2")


@probe.route("/duplicate", methods=["POST"])
@probe.response(201)
def duplicate():
    db.session.add(JobRun(job_name="probe", slot="1"))
    db.session.flush()
    db.session.add(JobRun(job_name="probe", slot="1"))
    db.session.commit()


@probe.route("/limited")
@limiter.limit("2 per minute")
@probe.response(200, message="ok")
def limited():
    return {"ok": True}


def make_probe_app():
    app = create_app("testing")
    app.extensions["qg_api"].register_blueprint(probe)
    return app
