"""Receiving contact messages (stored, relayed or emailed, acknowledged) and the inbox."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app
from sqlalchemy import or_, select

from app.contact.models import ContactMessage
from app.db import after_commit, get_or_404
from app.errors import ProviderError
from app.extensions import db
from app.notifications.email import send_email_after_commit
from app.pagination import Page, paginate
from app.services import web3forms_relay
from app.services.web3forms import Web3FormsClient
from app.settings import setting

log = logging.getLogger(__name__)

FORM_FIELDS = ("name", "email", "phone", "subject", "message", "order_number")


def receive(data: dict[str, Any], ip_address: str | None) -> ContactMessage:
    """Store a message and acknowledge it to the sender; support hears of it through
    Web3Forms once the transaction commits (when configured), else by email."""
    message = ContactMessage(**{name: data.get(name) for name in FORM_FIELDS})
    message.ip_address = ip_address
    db.session.add(message)
    db.session.flush()
    send_email_after_commit(
        message.email,
        "We have received your message",
        "contact_acknowledgement",
        contact=message,
        support_email=current_app.config["SUPPORT_EMAIL"],
    )
    relay = web3forms_relay()
    if relay is None:
        email_support(message)
        return message
    body = relay.body(
        name=message.name,
        email=message.email,
        subject=f"Contact form: {message.subject}",
        message=message.message,
        from_name=setting("store_name"),
        phone=message.phone or "",
        order_number=message.order_number or "",
        reference=f"contact-message-{message.id}",
    )
    app = current_app._get_current_object()
    after_commit(db.session(), lambda: _relay(app, relay, body, message.id))
    return message


def email_support(message: ContactMessage) -> None:
    send_email_after_commit(
        current_app.config["SUPPORT_EMAIL"],
        f"Contact form: {message.subject}",
        "contact_message",
        contact=message,
    )


def _relay(app: Flask, relay: Web3FormsClient, body: dict[str, str], message_id: int) -> None:
    """After the commit: Web3Forms, or the support email when it fails (never raises)."""
    try:
        relay.submit(body)
    except ProviderError as exc:
        log.warning("contact message %s not relayed (%s): emailing support", message_id, exc)
        with app.app_context():  # a fresh context: its own database session
            try:
                email_support(db.session.get(ContactMessage, message_id))
                db.session.commit()
            except Exception:  # the message is stored: it still shows in the inbox
                log.exception("contact message %s: the support email failed", message_id)


def list_messages(params: dict[str, Any]) -> Page:
    """Newest first, filtered by ``status`` and ``q`` (name, email or subject)."""
    statement = select(ContactMessage)
    if params.get("status") is not None:
        statement = statement.where(ContactMessage.status == params["status"])
    if params.get("q"):
        pattern = f"%{params['q'].strip()}%"
        statement = statement.where(
            or_(
                ContactMessage.name.ilike(pattern),
                ContactMessage.email.ilike(pattern),
                ContactMessage.subject.ilike(pattern),
            )
        )
    order = (ContactMessage.created_at.desc(), ContactMessage.id.desc())
    return paginate(statement.order_by(*order), params)


def update_message(message_id: int, data: dict[str, Any]) -> ContactMessage:
    message = get_or_404(ContactMessage, message_id)
    for name in ("status", "note"):
        if name in data:
            setattr(message, name, data[name])
    db.session.flush()
    return message


def contact_info() -> dict[str, Any]:
    whatsapp = setting("contact_whatsapp")
    return {
        "phone": setting("contact_phone"),
        "whatsapp": whatsapp,
        "whatsapp_url": f"https://wa.me/{''.join(filter(str.isdigit, whatsapp))}",
        "email": setting("contact_email"),
        "address": setting("contact_address"),
        "hours": setting("opening_hours"),
        "social": setting("social_links"),
    }
