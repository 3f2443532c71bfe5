"""``insert_new`` + ``attach_persistent``: new rows written on the tables, then handed
to the session as complete, loaded objects."""

from datetime import datetime

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.auth.models import UserRole
from app.db import attach_persistent, insert_new
from app.orders.models import Order, OrderItem, OrderStatus
from app.orders.state import record_history
from tests.factories.auth import UserFactory
from tests.factories.catalog import ProductFactory
from tests.factories.orders import DeliveryZoneFactory, OrderFactory


def _new_order():
    """A transient order with two lines and one history row, as checkout builds them."""
    order = OrderFactory.build(
        customer=UserFactory(role=UserRole.CUSTOMER),
        delivery_zone=DeliveryZoneFactory(),
        items=[(product, 1) for product in ProductFactory.create_batch(2)],
        history=[],
    )
    record_history(order, "status", None, OrderStatus.PENDING, note="Placed")
    return order


def test_rows_get_keys_parents_and_python_defaults_and_join_the_session_loaded(db):
    order = _new_order()
    for group in ([order], order.items, order.history):
        insert_new(db.session, group)
    assert inspect(order).transient  # not in the session until attached
    attach_persistent(db.session, [order, *order.items, *order.history])

    for obj in (order, *order.items, *order.history):
        state = inspect(obj)
        assert state.persistent and not state.modified and not state.expired_attributes
    assert not db.session.new and not db.session.dirty  # nothing left to flush
    assert order.status == "PENDING" and order.currency == "KES"  # currency: a scalar default
    assert isinstance(order.created_at, datetime) and order.created_at.tzinfo is not None
    assert order.delivery_zone_id == order.delivery_zone.id  # from the many-to-one
    assert [item.order_id for item in order.items] == [order.id, order.id]
    assert [item.returned_quantity for item in order.items] == [0, 0]
    assert order.history[0].order_id == order.id and order.history[0].field == "status"

    written = (order.id, order.created_at, order.delivery_zone_id)
    lines = [(item.id, item.product_id) for item in order.items]
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.get(Order, written[0])
    assert (stored.id, stored.created_at, stored.delivery_zone_id) == written
    assert (stored.status, stored.currency) == ("PENDING", "KES")
    assert [(i.id, i.product_id) for i in stored.items] == lines  # each key on its own row
    assert [h.note for h in stored.history] == ["Placed"]


def test_a_rolled_back_insert_leaves_nothing(db):
    order = _new_order()
    insert_new(db.session, [order])
    insert_new(db.session, order.items)
    db.session.rollback()
    assert db.session.scalar(text("SELECT count(*) FROM orders")) == 0
    assert db.session.scalars(select(OrderItem)).all() == []
    assert inspect(order).transient


class _Base(DeclarativeBase):
    pass


class _ServerStamped(_Base):
    __tablename__ = "insert_new_server_stamped"
    id: Mapped[int] = mapped_column(primary_key=True)
    stamped_at: Mapped[datetime] = mapped_column(server_default=text("CURRENT_TIMESTAMP"))


def test_a_column_with_a_server_side_default_only_is_refused(db):
    with pytest.raises(TypeError, match="stamped_at has a server-side default only"):
        insert_new(db.session, [_ServerStamped()])


def test_objects_of_two_classes_are_refused_and_nothing_is_written(db):
    order = _new_order()
    with pytest.raises(TypeError, match="one class at a time"):
        insert_new(db.session, [order, order.history[0]])
    assert db.session.scalar(text("SELECT count(*) FROM orders")) == 0
