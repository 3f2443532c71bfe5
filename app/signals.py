"""Every domain event, with what it carries: the one seam between domains.

A signal is sent by the one operation that makes the change, inside its transaction,
once the change is flushed: ``order_paid.send(order, actor_id=...)``. The sender is the
changed object; the keyword arguments are listed beside each signal. Receivers run at
once, in that transaction: a receiver that raises fails the whole change, so a money
rule hung on an event is never skipped silently. Work that must wait for the commit
(email, a provider call) queues itself with ``app.db.after_commit``.

Receivers live in their domain's ``receivers.py`` (or ``app/notifications/``), connected
when ``create_app`` imports the modules in ``RECEIVER_MODULES``; a lower domain never
imports a higher one to react to it. Never observe ``session.new`` instead: checkout
writes its rows past the unit of work.
"""

from __future__ import annotations

from blinker import Namespace

_events = Namespace()

# ---- orders (sender: the Order) -----------------------------------------------------
#: A checkout wrote the order and its lines; its stock is taken next, in the same transaction
#: (a refusal rolls the whole checkout back, receivers included). ``actor_id``.
order_placed = _events.signal("order-placed")
#: Any status change. ``old``, ``new`` (OrderStatus), ``actor_id`` (None: the system),
#: ``note``.
order_status_changed = _events.signal("order-status-changed")
#: The order's payment status changed. ``old``, ``new`` (PaymentStatus), ``actor_id``, ``note``.
order_payment_status_changed = _events.signal("order-payment-status-changed")
#: The order is paid in full (PaymentStatus COMPLETED). ``actor_id``, ``via`` (the payment
#: method's name or "ADMIN").
order_paid = _events.signal("order-paid")
#: The order was cancelled and its stock returned. ``actor_id``, ``reason``,
#: ``was_paid`` (money was captured: a refund is due).
order_cancelled = _events.signal("order-cancelled")
#: The order reached DELIVERED. ``actor_id``.
order_delivered = _events.signal("order-delivered")

# ---- payments and refunds (sender: the Payment or the Refund) ----------------------
#: A payment attempt was settled: it completed or failed. ``outcome`` (``Outcome``:
#: COMPLETED, FAILED, AMOUNT_MISMATCH), ``paid_order`` (True when this payment paid its
#: order; False when it failed, or its money arrived for an order already paid or
#: cancelled and is owed back).
payment_settled = _events.signal("payment-settled")
#: A refund row was recorded as owed to the customer. (sender: the Refund)
refund_due = _events.signal("refund-due")
#: The provider confirmed a refund (not merely accepted it). (sender: the Refund)
refund_settled = _events.signal("refund-settled")

# ---- ledger (sender: the tuple of ``Posting``s just written) ------------------------
#: ``post_many`` wrote these entries (those already posted are left out), in the poster's
#: transaction. ``lines``: {event key: the entry's non-zero ``Line``s}; ``posted_at``: the
#: entries' ``occurred_at`` when their posting gave none.
ledger_posted = _events.signal("ledger-posted")

# ---- catalog (sender: the Product, or the product's id) -----------------------------
#: A product is about to be deleted (inside a savepoint). Receivers delete their rows
#: that point to it, or keep it by raising ``Conflict``: it is then deactivated instead
#: and the receivers' deletions are rolled back.
product_deleting = _events.signal("product-deleting")
#: A question (sender: the product's id): was it delivered to ``user_id``? Receivers
#: answer True or False; with no receiver answering True, it was not.
product_received_asked = _events.signal("product-received-asked")

# ---- accounts (sender: the User) ----------------------------------------------------
#: The user asked to verify their email address (or signed up unverified): a new code and
#: link were issued. ``code`` (six digits), ``token`` (the link's), ``valid_for`` (the
#: code's lifetime, a timedelta).
verification_requested = _events.signal("verification-requested")
#: The email address was verified for the first time (code, link, password reset, or
#: Google at sign-up or linking).
email_verified = _events.signal("email-verified")
#: The user asked to reset a forgotten password. ``code``, ``token`` (the reset link's),
#: ``valid_for``.
password_reset_requested = _events.signal("password-reset-requested")
#: A one-time code was asked for on its own (send-otp). ``purpose`` (OTPPurpose),
#: ``code``, ``valid_for``.
otp_issued = _events.signal("otp-issued")
#: The password was reset, changed or set (other sessions are signed out).
password_changed = _events.signal("password-changed")
