"""Contact form, the store's contact details and the support inbox"""

from flask import current_app, request
from flask_limiter.util import get_remote_address

from app.api import Blueprint, ErrorEnvelopeSchema
from app.auth.access import requires
from app.contact import operations
from app.contact.schemas import (
    ContactFormSchema,
    ContactInfoSchema,
    ContactMessageQuerySchema,
    ContactMessageSchema,
    ContactMessageUpdateSchema,
    ContactReceiptSchema,
)
from app.extensions import db, limiter

blp = Blueprint(
    "contact",
    __name__,
    url_prefix="/api",
    description="Contact form, the store's contact details and the support inbox",
)


@blp.route("/contact", methods=["POST"])
@blp.arguments(ContactFormSchema)
@blp.response(201, ContactReceiptSchema, message="Thank you, we will get back to you shortly")
@blp.alt_response(429, schema=ErrorEnvelopeSchema, description="RATE_LIMITED")
@limiter.limit(lambda: current_app.config["CONTACT_RATE_LIMIT"], key_func=get_remote_address)
def send_message(data):
    """Send a message to the store (``CONTACT_RATE_LIMIT`` per client IP, 429 beyond).

    It is stored, relayed to support (Web3Forms when configured, else email) and
    acknowledged by email to the sender. ``website`` is a honeypot: when it is filled the
    answer is the same and nothing is stored or sent.
    """
    if data.pop("website"):
        return {"received": True}
    operations.receive(data, request.remote_addr)
    db.session.commit()
    return {"received": True}


@blp.route("/contact/info", methods=["GET"])
@blp.response(200, ContactInfoSchema)
def contact_info():
    """The store's phone, WhatsApp, email, address, opening hours and social links."""
    return operations.contact_info()


@blp.route("/admin/contact-messages", methods=["GET"])
@requires("support.inbox")
@blp.arguments(ContactMessageQuerySchema, location="query")
@blp.response(200, ContactMessageSchema, paginated=True)
def list_messages(params):
    """Contact messages, newest first (support admins and admins)."""
    return operations.list_messages(params)


@blp.route("/admin/contact-messages/<int:message_id>", methods=["PUT"])
@requires("support.inbox")
@blp.arguments(ContactMessageUpdateSchema)
@blp.response(200, ContactMessageSchema, message="Contact message updated")
def update_message(data, message_id):
    """Set a message's ``status`` (``NEW``, ``IN_PROGRESS``, ``RESOLVED``) and/or ``note``."""
    message = operations.update_message(message_id, data)
    db.session.commit()
    return message
