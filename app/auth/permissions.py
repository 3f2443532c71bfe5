"""Who may do what in the back office: the one table of admin capabilities.

Every admin-only endpoint is guarded by ``requires(<capability>)`` (``app/auth/access.py``)
naming a row of ``PERMISSIONS``; ``tests/admin/test_role_matrix.py`` walks every such
endpoint with every role and fails for an admin endpoint that names no row. The README's
role table is this table.

- ADMIN: everything.
- FINANCE_ADMIN: reports, payouts, refunds, reconciliation, supplier commission, orders
  (read only; records payments by hand).
- SUPPORT_ADMIN: users (status, not role), orders (read; cancels), supplier applications,
  returns, delivery disputes, the contact inbox, audit logs.
- PRODUCT_MANAGER: products, categories, brands, delivery zones, imports.
- Every admin sub-role: the dashboard, analytics, the activity timeline and its own
  notification feed.
"""

from __future__ import annotations

from app.auth.models import ADMIN_ROLES, UserRole

R = UserRole
EVERY_ADMIN = frozenset(ADMIN_ROLES)
FINANCE = frozenset({R.ADMIN, R.FINANCE_ADMIN})
SUPPORT = frozenset({R.ADMIN, R.SUPPORT_ADMIN})
PRODUCTS = frozenset({R.ADMIN, R.PRODUCT_MANAGER})
ADMIN_ONLY = frozenset({R.ADMIN})

PERMISSIONS: dict[str, frozenset[UserRole]] = {
    # overview
    "overview.read": EVERY_ADMIN,  # dashboard, analytics, activity timeline
    "notifications.own": EVERY_ADMIN,  # the caller's own admin feed
    # users and suppliers
    "users.read": SUPPORT,
    "users.status": SUPPORT,
    "users.role": ADMIN_ONLY,
    "suppliers.read": EVERY_ADMIN - {R.PRODUCT_MANAGER},
    "suppliers.review": SUPPORT,  # approve, reject, suspend
    "suppliers.commission": FINANCE,
    # catalogue
    "catalogue.manage": PRODUCTS,  # products, categories, brands, delivery zones
    "catalogue.import": PRODUCTS,
    # orders
    "orders.read": EVERY_ADMIN - {R.PRODUCT_MANAGER},
    "orders.notes": SUPPORT,  # internal notes on an order
    "orders.update": SUPPORT,  # status changes; the state machine decides which
    "orders.payment": FINANCE,  # a payment recorded by hand (state.ROLE_TARGETS: PAID)
    # money
    "finance.reports": FINANCE,  # financial and reconciliation reports
    "finance.payments": FINANCE,  # cash confirmations, refunds, payouts
    # support
    "support.returns": SUPPORT,  # returns and delivery disputes
    "support.inbox": SUPPORT,  # contact messages
    "support.emails": SUPPORT,  # the email outbox: dead emails, retries
    "returns.read": EVERY_ADMIN - {R.PRODUCT_MANAGER},  # every return, its analytics
    # delivery
    "delivery.manage": SUPPORT,  # agents, companies, zones served, assignment, disputes
    "delivery.cash": EVERY_ADMIN - {R.PRODUCT_MANAGER},  # cash on delivery taken and verified
    # platform
    "settings.manage": ADMIN_ONLY,
    "audit.read": SUPPORT,
}


def roles_for(capability: str) -> frozenset[UserRole]:
    """The roles holding ``capability`` (an unknown name is a programming error)."""
    return PERMISSIONS[capability]
