"""Who sees which orders, and which parts of them.

- customers: their own orders, without the platform's commission figures;
- suppliers: orders holding at least one of their items, showing only those items, their
  subtotal (no delivery fee, order total, customer contact or address);
- delivery agents: the orders assigned to them or to their delivery company, without
  commission figures; the recipient's phone no longer once DELIVERED for
  ``AGENT_PHONE_HOURS`` hours;
- the customer also sees the delivery code while the order is out for delivery;
- admins (every admin role): everything.

Someone else's order is simply not found (404).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, exists, or_, select, union_all
from sqlalchemy.orm import selectinload

from app.auth.models import ADMIN_ROLES, User, UserRole
from app.auth.search import contains, users_matching
from app.db import lock_or_404, utcnow
from app.errors import NotFound
from app.extensions import db
from app.orders.models import Order, OrderItem, OrderStatus, OrderStatusHistory
from app.pagination import Page, paginate
from app.signals import delivery_code_asked

COMMISSION_FIELDS = frozenset({"commission_rate", "commission_amount", "supplier_earning"})
HIDDEN_FROM_SUPPLIERS = frozenset(
    {
        "delivery_fee",
        "total",
        "customer",
        "address_id",
        "recipient_name",
        "recipient_phone",
        "delivery_street",
        "delivery_landmark",
        "delivery_agent",
        "notes",
    }
)


class Redacted:
    """``obj`` minus the attributes in ``hidden`` (schemas leave missing ones out)."""

    def __init__(self, obj: Any, hidden: frozenset[str] = frozenset(), **overrides: Any):
        self._obj, self._hidden = obj, hidden
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        if name in self._hidden:
            raise AttributeError(name)
        return getattr(self._obj, name)


def _supplier_id(user: User) -> int:
    return user.supplier_profile.id if user.supplier_profile else -1


def visible_to(user: User) -> list:
    """The conditions on ``Order`` that restrict it to the orders ``user`` may see."""
    if user.role in ADMIN_ROLES:
        return []
    if user.role == UserRole.SUPPLIER:
        mine = exists().where(
            OrderItem.order_id == Order.id, OrderItem.supplier_id == _supplier_id(user)
        )
        return [mine]
    if user.role == UserRole.DELIVERY_AGENT:
        profile = user.delivery_agent_profile
        company_id = profile.delivery_company_id if profile else None
        if company_id is None:
            return [Order.delivery_agent_id == user.id]
        return [or_(Order.delivery_agent_id == user.id, Order.delivery_company_id == company_id)]
    return [Order.customer_id == user.id]


def scoped(statement: Select, user: User) -> Select:
    """Restrict a ``select(Order)`` to the orders ``user`` may see."""
    return statement.where(*visible_to(user))


def lock_visible_order(user: User, order_id: int) -> Order:
    """``lock_order`` of an order ``user`` may see; anyone else's is 404 as an unknown one."""
    return lock_or_404(Order, order_id, *visible_to(user), message="Order not found")


# An agent keeps the recipient's phone this long after delivering (then it is gone).
AGENT_PHONE_HOURS = 24


def agent_keeps_phone(order: Order, now: datetime | None = None) -> bool:
    delivered_at = order.delivered_at
    return delivered_at is None or (now or utcnow()) - delivered_at < timedelta(
        hours=AGENT_PHONE_HOURS
    )


def present(order: Order, user: User) -> Order | Redacted:
    """The order as ``user`` may see it."""
    if user.role in ADMIN_ROLES:
        return order
    if user.role == UserRole.SUPPLIER:
        mine = [item for item in order.items if item.supplier_id == _supplier_id(user)]
        return Redacted(
            order,
            HIDDEN_FROM_SUPPLIERS,
            items=mine,
            subtotal=sum((item.line_total for item in mine), Decimal("0.00")),
        )
    items = [Redacted(item, COMMISSION_FIELDS) for item in order.items]
    if user.role == UserRole.DELIVERY_AGENT:
        hidden = frozenset() if agent_keeps_phone(order) else frozenset({"recipient_phone"})
        return Redacted(order, hidden, items=items)
    if order.customer_id == user.id:
        return CustomersView(order, items=items)
    return Redacted(order, items=items)


class CustomersView(Redacted):
    @property
    def delivery_code(self) -> str | None:
        """The code the customer gives the agent, while the order is on its way (asked
        only when shown: an order's detail, not a list)."""
        if self._obj.status not in (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.ARRIVED):
            return None
        answers = [code for _, code in delivery_code_asked.send(self._obj) if code]
        return answers[0] if answers else None


# Loaded by one query each after the page's own (never joined into it: a search whose page
# is chosen among many matches would join every match before sorting).
LIST_LOADS = (
    selectinload(Order.items),
    selectinload(Order.customer),
    selectinload(Order.delivery_zone),
)


def find_order(user: User, order_id: int) -> Order:
    """Load-or-404 an order ``user`` may see, with everything its detail view shows."""
    order = db.session.scalar(
        scoped(select(Order).where(Order.id == order_id), user).options(
            *LIST_LOADS, selectinload(Order.history).joinedload(OrderStatusHistory.changed_by)
        )
    )
    if order is None:
        raise NotFound("Order not found")
    return order


def list_orders(user: User, params: dict[str, Any]) -> Page:
    """A page of the orders ``user`` may see, newest first, filtered by ``params``."""
    statement = scoped(select(Order), user).options(*LIST_LOADS)
    for name in ("status", "payment_status", "payment_method"):
        if params.get(name) is not None:
            statement = statement.where(getattr(Order, name) == params[name])
    # Admin filters (GET /api/admin/orders).
    if params.get("supplier_id") is not None:
        statement = statement.where(
            exists().where(
                OrderItem.order_id == Order.id, OrderItem.supplier_id == params["supplier_id"]
            )
        )
    if params.get("agent_id") is not None:
        statement = statement.where(Order.delivery_agent_id == params["agent_id"])
    if params.get("county"):
        statement = statement.where(Order.delivery_county == params["county"])
    if params.get("from") is not None:
        statement = statement.where(Order.created_at >= params["from"])
    if params.get("to") is not None:
        statement = statement.where(Order.created_at <= params["to"])
    if params.get("q"):
        # The order number holds q, or the customer's details hold each word of it: the
        # ids of either (both trigram index lookups on PostgreSQL), never a scan of orders.
        q = params["q"].strip()
        statement = statement.where(
            Order.id.in_(
                union_all(
                    select(Order.id).where(contains(Order.order_number, q)),
                    select(Order.id).where(
                        Order.customer_id.in_(select(User.id).where(users_matching(q)))
                    ),
                )
            )
        )
    page = paginate(statement.order_by(Order.created_at.desc(), Order.id.desc()), params)
    page.items = [present(order, user) for order in page.items]
    return page
