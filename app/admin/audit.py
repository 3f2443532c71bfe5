"""The audit log as admins read it (filters, pages, a streamed CSV) and the activity
timeline: the latest audit entries and order status changes, merged newest first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Integer, String, func, literal, null, select, union_all
from sqlalchemy.sql.expression import cast

from app.common.models import AuditLog
from app.extensions import db
from app.fields import Timestamp
from app.orders.models import Order, OrderStatusHistory
from app.pagination import Page, paginate

CSV_COLUMNS = (
    "id",
    "created_at",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "details",
    "ip_address",
    "request_id",
)
TIMESTAMP = Timestamp()


def _conditions(params: dict[str, Any]) -> list:
    conditions = []
    for name, column in (
        ("actor_id", AuditLog.actor_id),
        ("action", AuditLog.action),
        ("object_type", AuditLog.target_type),
        ("object_id", AuditLog.target_id),
    ):
        if params.get(name) is not None:
            conditions.append(column == params[name])
    if params.get("from") is not None:
        conditions.append(AuditLog.created_at >= params["from"])
    if params.get("to") is not None:
        conditions.append(AuditLog.created_at <= params["to"])
    return conditions


def _statement(params: dict[str, Any]):
    return (
        select(AuditLog)
        .where(*_conditions(params))
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    )


def list_audit_logs(params: dict[str, Any]) -> Page:
    count = select(func.count()).select_from(AuditLog).where(*_conditions(params))
    return paginate(_statement(params), params, count=count)


def audit_csv_rows(params: dict[str, Any]) -> Iterator[tuple]:
    """The header, then every matching entry newest first, read in batches."""
    yield CSV_COLUMNS
    for entry in db.session.scalars(_statement(params).execution_options(yield_per=1000)):
        yield (
            entry.id,
            TIMESTAMP.serialize("created_at", entry),
            entry.actor_id,
            entry.action,
            entry.target_type,
            entry.target_id,
            json.dumps(entry.details, sort_keys=True, default=str),
            entry.ip_address,
            entry.request_id,
        )


def timeline(params: dict[str, Any]) -> Page:
    """A page of the latest audit entries and order status changes, newest first.

    Each source gives only its newest ``page x per_page`` rows (an index walk on its
    ``created_at``) before the two are merged, and the total is the two tables' counts:
    no sort of millions of history rows for one page."""
    wanted = params["page"] * params["per_page"]
    audits = (
        select(
            literal("audit").label("kind"),
            AuditLog.id.label("id"),
            AuditLog.created_at.label("created_at"),
            AuditLog.actor_id.label("actor_id"),
            AuditLog.action.label("action"),
            AuditLog.target_type.label("object_type"),
            AuditLog.target_id.label("object_id"),
            cast(null(), Integer).label("order_id"),
            cast(null(), String).label("from_status"),
            cast(null(), String).label("to_status"),
            cast(null(), String).label("note"),
        )
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(wanted)
    )
    orders = (
        select(
            literal("order").label("kind"),
            OrderStatusHistory.id.label("id"),
            OrderStatusHistory.created_at.label("created_at"),
            OrderStatusHistory.changed_by_id.label("actor_id"),
            (literal("order.") + OrderStatusHistory.field).label("action"),
            literal("Order").label("object_type"),
            cast(OrderStatusHistory.order_id, String).label("object_id"),
            OrderStatusHistory.order_id.label("order_id"),
            OrderStatusHistory.from_status.label("from_status"),
            OrderStatusHistory.to_status.label("to_status"),
            OrderStatusHistory.note.label("note"),
        )
        .order_by(OrderStatusHistory.created_at.desc(), OrderStatusHistory.id.desc())
        .limit(wanted)
    )
    events = union_all(select(audits.subquery()), select(orders.subquery())).subquery("events")
    statement = (
        select(events, Order.order_number)
        .outerjoin(Order, Order.id == events.c.order_id)
        .order_by(events.c.created_at.desc(), events.c.kind, events.c.id.desc())
    )
    count = select(
        select(func.count()).select_from(AuditLog).scalar_subquery()
        + select(func.count()).select_from(OrderStatusHistory).scalar_subquery()
    )
    return paginate(statement, params, count=count, rows=True)
