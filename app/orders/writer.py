"""Checkout's writer: a new order, its lines and history INSERTed on their tables.

For checkout only, the busiest write: the unit of work's flush of these rows cost a sixth
of a checkout's CPU. Writing past it skips what the flush would do for them, so this
writer takes only the classes it was checked for, ``WRITTEN``, and refuses a mapping it
would get wrong (``mapping_problems``): listeners of their inserts, a column whose value
only the server knows, a default that wants the statement's context. The session-level
listeners of a flush (``SKIPPED_SESSION_EVENTS``) do not see these rows either: a test
keeps the list of those reviewed as not concerned with orders.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Insert, insert
from sqlalchemy import inspect as mapper_of
from sqlalchemy.orm import MANYTOONE, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.db import Base
from app.orders.models import Order, OrderItem, OrderStatusHistory

WRITTEN = (Order, OrderItem, OrderStatusHistory)
SKIPPED_MAPPER_EVENTS = ("before_insert", "after_insert")
SKIPPED_SESSION_EVENTS = (
    "before_flush",
    "after_flush",
    "after_flush_postexec",
    "transient_to_pending",
    "pending_to_persistent",
)


@dataclass(frozen=True)
class _Column:
    attribute: str
    key: str  # the column's key: what the INSERT binds
    default: Callable[[], object] | None  # the column's Python default, if it has one


@dataclass(frozen=True)
class _Parent:
    """A many-to-one: ``foreign_key`` takes the value of the parent's ``parent_key``."""

    relationship: str
    foreign_key: str
    parent_key: str


@dataclass(frozen=True)
class _InsertPlan:
    statement: Insert
    primary_key: str
    columns: tuple[_Column, ...]
    parents: tuple[_Parent, ...]


def mapping_problems(cls: type) -> list[str]:
    """What of ``cls``'s mapping this writer would skip or fill in wrongly."""
    mapper = mapper_of(cls)
    problems = [
        f"{cls.__name__} has a {name} listener"
        for name in SKIPPED_MAPPER_EVENTS
        if len(getattr(mapper.dispatch, name))
    ]
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        default = column.default
        if column.primary_key:
            continue
        if default is None and column.server_default is not None:
            problems.append(f"{cls.__name__}.{prop.key} has a server-side default only")
        elif default is not None and not (default.is_scalar or default.is_callable):
            problems.append(f"{cls.__name__}.{prop.key} has a SQL default")
        elif default is not None and default.is_callable and default.compare_argument(default.arg):
            # SQLAlchemy calls a default with the statement's context: it keeps one that
            # takes it as given, and wraps one that takes none.
            problems.append(f"{cls.__name__}.{prop.key}'s default takes a context")
    return problems


def _python_default(column) -> Callable[[], object] | None:
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return lambda: default.arg
    return lambda: default.arg(None)  # context-free: SQLAlchemy's wrapper ignores it


@functools.cache
def _insert_plan(cls: type) -> _InsertPlan:
    if cls not in WRITTEN:
        raise TypeError(f"checkout's writer does not write {cls.__name__}")
    problems = mapping_problems(cls)
    if problems:
        raise TypeError("; ".join(problems))
    mapper = mapper_of(cls)
    (primary_key,) = mapper.primary_key
    columns = tuple(
        _Column(prop.key, prop.columns[0].key, _python_default(prop.columns[0]))
        for prop in mapper.column_attrs
        if prop.columns[0] is not primary_key
    )
    parents = tuple(
        _Parent(
            relationship.key,
            mapper.get_property_by_column(local).key,
            relationship.mapper.get_property_by_column(remote).key,
        )
        for relationship in mapper.relationships
        if relationship.direction is MANYTOONE
        for local, remote in relationship.local_remote_pairs
    )
    table = mapper.local_table
    return _InsertPlan(
        statement=insert(table).returning(primary_key, sort_by_parameter_order=True),
        primary_key=mapper.get_property_by_column(primary_key).key,
        columns=columns,
        parents=parents,
    )


def insert_new(session: Session, objects: Sequence[Base]) -> None:
    """INSERT new objects of one of the ``WRITTEN`` classes with one statement.

    Each column gets the object's value, else the key of the many-to-one parent it
    points at (an item's ``order`` gives its ``order_id``: insert parents first), else
    the column's Python default, else None; what was filled in and the primary key that
    comes back are set on the object, so that it is complete. ``attach_persistent`` then
    hands the objects to the session.
    """
    if not objects:
        return
    cls = type(objects[0])
    plan = _insert_plan(cls)
    rows = []
    for obj in objects:
        if type(obj) is not cls:
            raise TypeError(f"insert_new writes one class at a time: {cls.__name__}")
        values = obj.__dict__
        for parent in plan.parents:
            related = values.get(parent.relationship)
            if related is not None:
                set_committed_value(obj, parent.foreign_key, getattr(related, parent.parent_key))
        row = {}
        for column in plan.columns:
            if column.attribute not in values:
                set_committed_value(
                    obj, column.attribute, column.default() if column.default else None
                )
            row[column.key] = values[column.attribute]
        rows.append(row)
    keys = session.execute(plan.statement, rows).scalars().all()
    for obj, key in zip(objects, keys, strict=True):
        set_committed_value(obj, plan.primary_key, key)


def attach_persistent(session: Session, objects: Sequence[Base]) -> None:
    """Objects written by ``insert_new`` join the session as loaded rows: nothing to
    flush, nothing to read back."""
    for obj in objects:
        make_transient_to_detached(obj)
    session.add_all(objects)
