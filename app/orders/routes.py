"""Orders, addresses and delivery fees"""

from app.api import Blueprint
from app.auth.access import auth_required, current_user, customer_required, login_required, requires
from app.auth.models import UserRole
from app.common.idempotency import idempotent
from app.delivery import operations as zones
from app.delivery.schemas import DeliveryQuoteArgsSchema, DeliveryQuoteSchema, DeliveryZoneSchema
from app.errors import ValidationFailed
from app.extensions import db
from app.orders import checkout, operations
from app.orders.models import OrderStatus
from app.orders.schemas import (
    AddressSchema,
    AddressUpdateSchema,
    CancelSchema,
    CheckoutSchema,
    OrderQuerySchema,
    OrderSchema,
    OrderSummarySchema,
    PaymentChangeSchema,
    StatusChangeSchema,
)
from app.orders.state import check_may_move
from app.orders.visibility import find_order, list_orders, present

blp = Blueprint(
    "orders", __name__, url_prefix="/api/orders", description="Orders, addresses and delivery fees"
)

# Who may move an order where is ``state.ROLE_TARGETS``; payments are recorded by those
# who may make an order PAID (the role table's "orders.payment", the same roles: a test
# holds them equal).
payment_recorder_required = requires("orders.payment")


# Delivery zones ---------------------------------------------------------------------
@blp.route("/delivery-zones", methods=["GET"])
@blp.response(200, DeliveryZoneSchema(many=True))
def list_delivery_zones():
    """Active delivery zones, cheapest first."""
    return zones.active_zones()


@blp.route("/delivery-zones/calculate", methods=["POST"])
@blp.arguments(DeliveryQuoteArgsSchema)
@blp.response(200, DeliveryQuoteSchema)
def calculate_delivery_fee(data):
    """The delivery fee for a subtotal in a zone (free at or above the zone's threshold).

    The zone is ``delivery_zone_id`` or the active zone covering ``county`` (exactly one
    of them; 404 when no zone covers the county).
    """
    if "county" in data:
        zone = zones.zone_covering(data["county"])
    else:
        zone = zones.active_zone(data["delivery_zone_id"])
    return zones.quote_delivery(zone, data["subtotal"])


# Addresses --------------------------------------------------------------------------
@blp.route("/addresses", methods=["GET"])
@customer_required
@blp.response(200, AddressSchema(many=True))
def list_addresses():
    """The caller's addresses, the default first."""
    return operations.addresses_of(current_user())


@blp.route("/addresses", methods=["POST"])
@customer_required
@blp.arguments(AddressSchema)
@blp.response(201, AddressSchema, message="Address saved")
def create_address(data):
    """Save an address; the first one, or one sent with ``is_default``, becomes the default."""
    address = operations.create_address(current_user(), data)
    db.session.commit()
    return address


@blp.route("/addresses/<int:address_id>", methods=["PUT"])
@customer_required
@blp.arguments(AddressUpdateSchema)
@blp.response(200, AddressSchema, message="Address updated")
def update_address(data, address_id):
    address = operations.find_address(current_user(), address_id)
    operations.update_address(address, data)
    db.session.commit()
    return address


@blp.route("/addresses/<int:address_id>", methods=["DELETE"])
@customer_required
@blp.response(200, message="Address deleted")
def delete_address(address_id):
    """Delete an address (past orders keep their copy of it)."""
    operations.delete_address(operations.find_address(current_user(), address_id))
    db.session.commit()
    return None


# Orders -----------------------------------------------------------------------------
@blp.route("", methods=["POST"])
@customer_required
@idempotent
@blp.arguments(CheckoutSchema)
@blp.response(201, OrderSchema, message="Order created")
def create_order(data):
    """Check out the cart (honours ``Idempotency-Key``).

    All or nothing: any shortfall is 422 ``INSUFFICIENT_STOCK`` listing every short
    product with what is available; an empty cart is 422 ``CART_EMPTY``; cash above
    ``COD_MAX_TOTAL`` is 422 ``COD_LIMIT_EXCEEDED``. The delivery zone is the address's:
    another ``delivery_zone_id``, or an address whose zone does not cover its county, is
    422 ``ZONE_MISMATCH``. M-Pesa and card orders must be paid
    before ``payment_due_at`` or they are cancelled and their stock released.
    """
    user = current_user()
    address = operations.find_address(user, data["address_id"])
    order = checkout.place_order(
        user,
        address=address,
        zone=operations.checkout_zone(address, data.get("delivery_zone_id")),
        payment_method=data["payment_method"],
        notes=data.get("notes"),
    )
    _commit_keeping_loaded()
    return present(order, user)


def _commit_keeping_loaded() -> None:
    """Commit without expiring the session's objects: the answer shows what the checkout
    has just written under its locks, so reloading each of them would only cost time."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(OrderQuerySchema, location="query")
@blp.response(200, OrderSummarySchema, paginated=True)
def get_orders(params):
    """Orders the caller may see: a customer's own, a supplier's (only their items and
    subtotal), a delivery agent's assignments, or all of them for admins."""
    return list_orders(current_user(), params)


@blp.route("/<int:order_id>", methods=["GET"])
@login_required
@blp.response(200, OrderSchema)
def get_order(order_id):
    """One order with its status history; someone else's order is 404."""
    user = current_user()
    return present(find_order(user, order_id), user)


@blp.route("/<int:order_id>/status", methods=["PUT"])
@auth_required(approved_supplier=True)
@blp.arguments(StatusChangeSchema)
@blp.response(200, OrderSchema, message="Order status updated")
def update_status(data, order_id):
    """Move an order along its lifecycle (409 ``INVALID_TRANSITION`` off the table).

    Who may set which status is one table, the same for ``/cancel`` (403 otherwise):
    admins any; support admins and the customer ``CANCELLED``; suppliers
    ``PROCESSING`` or ``QUALITY_APPROVED`` on orders made only of their items; finance
    admins and product managers none. ``CANCELLED`` returns the stock (as ``/cancel``
    does); ``PAID`` follows a completed payment and cannot be set here.
    """
    user = current_user()
    order = find_order(user, order_id)
    check_may_move(user, order, data["status"])
    order = operations.set_status(order, data["status"], actor=user, note=data.get("note"))
    db.session.commit()
    return present(order, user)


@blp.route("/<int:order_id>/payment", methods=["PUT"])
@payment_recorder_required
@blp.arguments(PaymentChangeSchema)
@blp.response(200, OrderSchema, message="Payment status updated")
def update_payment_status(data, order_id):
    """Record a payment outcome by hand (finance admins); ``COMPLETED`` pays a pending
    M-Pesa/card order. 409 ``INVALID_TRANSITION`` for anything off the table."""
    user = current_user()
    order = operations.set_payment_status(
        find_order(user, order_id),
        data["payment_status"],
        actor_id=user.id,
        note=data.get("note"),
    )
    db.session.commit()
    return order


@blp.route("/<int:order_id>/cancel", methods=["POST"])
@login_required
@blp.arguments(CancelSchema)
@blp.response(200, OrderSchema, message="Order cancelled")
def cancel_order(data, order_id):
    """Cancel a PENDING, PAID or PROCESSING order: its stock returns, once; a paid order
    gets a refund due. The owner may cancel; so may admins and support admins, giving a
    ``reason`` (403 for the others, as through ``PUT /status``)."""
    user = current_user()
    order = find_order(user, order_id)
    check_may_move(user, order, OrderStatus.CANCELLED)
    if user.role != UserRole.CUSTOMER and not data.get("reason"):
        raise ValidationFailed(details={"reason": ["A reason is required when staff cancel."]})
    order = operations.cancel_order(
        order, actor_id=user.id, reason=data.get("reason") or operations.default_reason(user)
    )
    db.session.commit()
    return present(order, user)
