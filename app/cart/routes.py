"""Shopping cart"""

from app.api import Blueprint, envelope_schema
from app.auth.access import current_user, customer_required
from app.cart import operations
from app.cart.schemas import (
    AddItemSchema,
    CartCheckSchema,
    CartCountSchema,
    CartSchema,
    UpdateItemSchema,
)
from app.extensions import db

blp = Blueprint("cart", __name__, url_prefix="/api/cart", description="Shopping cart")


@blp.route("", methods=["GET"])
@customer_required
@blp.response(200, CartSchema)
def get_cart():
    """The caller's cart, priced at today's prices."""
    return operations.find_cart(current_user().id)


@blp.route("/items", methods=["POST"])
@customer_required
@blp.arguments(AddItemSchema)
@blp.response(201, CartSchema, message="Item added to cart")
@blp.alt_response(
    200,
    schema=envelope_schema(CartSchema, many=False, paginated=False),
    description="The product was already in the cart: its line grew",
)
def add_item(data):
    """Add a product; adding one already in the cart adds to its quantity.

    201 when a new line was created, 200 when an existing line grew. More than the
    stock (counting what is already in the cart) is 422 ``INSUFFICIENT_STOCK``; a
    product beyond the cart's 50 different ones is 422 ``CART_FULL``; a cart total
    beyond what an order can hold is 422 ``AMOUNT_TOO_LARGE``.
    """
    cart = operations.lock_cart(current_user().id)
    created = operations.add_item(cart, data["product_id"], data["quantity"])
    db.session.commit()
    return cart, 201 if created else 200


@blp.route("/items/<int:item_id>", methods=["PUT"])
@customer_required
@blp.arguments(UpdateItemSchema)
@blp.response(200, CartSchema, message="Cart updated")
def update_item(data, item_id):
    """Set a line's quantity (1 to the product's stock)."""
    cart = operations.lock_cart(current_user().id)
    operations.set_quantity(cart, item_id, data["quantity"])
    db.session.commit()
    return cart


@blp.route("/items/<int:item_id>", methods=["DELETE"])
@customer_required
@blp.response(200, CartSchema, message="Item removed from cart")
def remove_item(item_id):
    cart = operations.lock_cart(current_user().id)
    operations.remove_item(cart, item_id)
    db.session.commit()
    return cart


@blp.route("/clear", methods=["DELETE"])
@customer_required
@blp.response(200, CartSchema, message="Cart cleared")
def clear_cart():
    cart = operations.lock_cart(current_user().id)
    operations.clear(cart)
    db.session.commit()
    return cart


@blp.route("/validate", methods=["GET"])
@customer_required
@blp.response(200, CartCheckSchema)
def validate_cart():
    """Check every line before checkout: price changes, stock shortfalls, products off sale.

    A product is off sale (``UNAVAILABLE``) when it is inactive or its supplier is not
    approved, as in the catalogue."""
    return operations.validate(operations.find_cart(current_user().id))


@blp.route("/count", methods=["GET"])
@customer_required
@blp.response(200, CartCountSchema)
def cart_count():
    return operations.count_items(current_user().id)
