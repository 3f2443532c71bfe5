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
#: A delivered order was found not delivered (a dispute's resolution) and went back to
#: SHIPPED: what its delivery posted is undone. ``actor_id``, ``note``.
order_undelivered = _events.signal("order-undelivered")

# ---- delivery (sender: the Order) ---------------------------------------------------
#: The customer disputed the delivery: the order's earnings (suppliers', agent's) stay
#: on hold until it is resolved. ``actor_id``, ``reason``.
delivery_disputed = _events.signal("delivery-disputed")
#: The delivery was accepted: by the customer, by the auto-confirmation job, or by an
#: admin resolving a dispute with DELIVERED. ``actor_id`` (None: the job), ``how``
#: ("CUSTOMER", "AUTO", "DISPUTE_RESOLVED").
delivery_confirmed = _events.signal("delivery-confirmed")
#: An admin resolved a dispute. ``resolution`` ("DELIVERED", "NOT_DELIVERED", "RETURN":
#: a return/refund is to be opened for the order), ``note``, ``actor_id``.
delivery_dispute_resolved = _events.signal("delivery-dispute-resolved")
#: An admin recorded that the cash collected for the order was handed in. ``agent_id``
#: (the agent who held it; None when staff collected it), ``amount``, ``reference``,
#: ``actor_id``.
cod_verified = _events.signal("cod-verified")
#: A question (sender: the Order): the delivery code its customer shows the agent.
#: Receivers answer the code, or None when there is none to show.
delivery_code_asked = _events.signal("delivery-code-asked")

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

# ---- disbursements: M-Pesa B2C transfers (``app/disbursements``) ------------------
#: Transfers went out: Daraja accepted them, or may have (``unknown``: a timeout).
#: Sender: their purpose (``DisbursementPurpose``: PAYOUT, REFUND); ``disbursements``
#: (a list, all of that purpose: a payout run sends one signal per batch). Sent once per
#: transfer (under its row lock), always before its ``disbursement_settled``.
disbursements_sent = _events.signal("disbursements-sent")
#: A transfer settled (sender: the Disbursement): ``status`` COMPLETED (``receipt``) or
#: FAILED (``result_code``, ``result_desc``: the money never left). Once per transfer.
disbursement_settled = _events.signal("disbursement-settled")
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
#: A product was created with, or updated to, these images (a list of URLs, the cover
#: first). ``images``. Uploads mark their images attached to it (and release the others).
product_images_set = _events.signal("product-images-set")
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

# ---- supplier portal (sender: the supplier profile's id) ----------------------------
#: A question: how many returns did the supplier's customers ask between ``start`` and
#: ``end`` (UTC datetimes, ``end`` excluded)? Receivers (the returns domain) answer a dict
#: ``{"count": int, "items_returned": int}``; the answers are added up, and with no
#: receiver there were none (no returns exist).
supplier_returns_asked = _events.signal("supplier-returns-asked")

# ---- returns (sender: the ReturnRequest) ----------------------------------------------
#: Any status change of a return, its creation included (``old`` None). ``old``, ``new``
#: (ReturnStatus), ``actor_id`` (None: the system), ``note``.
return_status_changed = _events.signal("return-status-changed")
# ---- uploads (sender: the Upload) ----------------------------------------------------
#: An uploaded image is being deleted (``DELETE /api/uploads/delete``): receivers drop its
#: URL wherever their domain holds it. ``url``, ``attached_to`` ("<kind>:<id>" or None).
upload_removing = _events.signal("upload-removing")
# ---- suppliers (sender: the SupplierProfile) ----------------------------------------
#: A supplier signed up: their application waits for an admin's decision.
supplier_applied = _events.signal("supplier-applied")
#: An admin decided on a supplier (``accounts.set_supplier_status`` through the admin
#: domain). ``old``, ``new`` (SupplierStatus), ``actor_id``, ``reason``. A supplier that
#: is not APPROVED has its products hidden (``is_approved``) and its payouts held.
supplier_status_changed = _events.signal("supplier-status-changed")
