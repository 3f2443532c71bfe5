"""The supplier terms: which version is in force, its text, and who accepted it.

``SUPPLIER_TERMS_VERSION`` names the version in force; payouts need it accepted
(``accepted_current_terms``). The text is ``templates/supplier/terms.txt``, rendered with
the commission and payout rules as they are configured now; ``EFFECTIVE_DATES`` says
since when each version applies. Acceptance records the version, the time and the
caller's IP address; an old or unknown version is refused (409), so a client showing
stale terms cannot accept them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import current_app, render_template

from app.auth.models import SupplierProfile
from app.catalog.models import commission_rate
from app.common.audit import record_audit
from app.db import utcnow
from app.errors import Conflict
from app.extensions import db
from app.money import format_money
from app.settings import setting

# When each published version took effect.
EFFECTIVE_DATES = {"2026-11": date(2026, 11, 1)}


@dataclass(frozen=True)
class Terms:
    version: str
    effective_date: date | None
    commission_rate: Decimal
    commission_rule: str
    payout_rules: list[str]
    text: str


@dataclass(frozen=True)
class TermsStatus:
    current_version: str
    accepted_version: str | None
    accepted_at: datetime | None
    accepted_ip: str | None
    accepted_current: bool


def current_terms_version() -> str:
    return current_app.config["SUPPLIER_TERMS_VERSION"]


def accepted_current_terms(supplier: SupplierProfile) -> bool:
    return (
        supplier.terms_accepted_at is not None and supplier.terms_version == current_terms_version()
    )


def supplier_commission_rate(supplier: SupplierProfile | None) -> Decimal:
    """The supplier's agreed rate, else the platform's default: the catalog's rule for a
    product and category without rates of their own."""
    return commission_rate(None, None, supplier.commission_rate if supplier else None)


def current_terms(supplier: SupplierProfile | None = None) -> Terms:
    """The version in force with its rules (the supplier's own commission rate if given)."""
    config = current_app.config
    rate = supplier_commission_rate(supplier)
    percent = f"{rate * 100:.2f}".rstrip("0").rstrip(".")
    commission_rule = (
        f"The platform keeps a commission of {percent}% of each delivered item's price "
        "(a product or its category may carry its own rate, shown on the product); the "
        "rate is fixed on each order line when the order is placed."
    )
    payout_rules = [
        f"Earnings are held for {config['EARNINGS_HOLD_DAYS']} days after delivery (the "
        "return window), then become available.",
        f"Available earnings of at least KES {format_money(setting('payout_min_amount'))} are "
        f"paid by M-Pesa on the schedule '{setting('payout_schedule')}' "
        f"({config['PAYOUT_TIMEZONE']}), in whole shillings; cents carry over.",
        "Payouts go to your approved payout number; a change of number takes effect once "
        "an administrator approves it.",
        "Payouts require the current version of these terms to be accepted.",
    ]
    version = current_terms_version()
    effective = EFFECTIVE_DATES.get(version)
    text = render_template(
        "supplier/terms.txt",
        version=version,
        effective_date=effective,
        commission_rule=commission_rule,
        payout_rules=payout_rules,
    )
    return Terms(version, effective, rate, commission_rule, payout_rules, text)


def terms_status(supplier: SupplierProfile) -> TermsStatus:
    return TermsStatus(
        current_version=current_terms_version(),
        accepted_version=supplier.terms_version,
        accepted_at=supplier.terms_accepted_at,
        accepted_ip=supplier.terms_accepted_ip,
        accepted_current=accepted_current_terms(supplier),
    )


def accept_terms(supplier: SupplierProfile, version: str, ip_address: str | None) -> TermsStatus:
    """Record the supplier's acceptance of ``version`` (flushes). Only the version in
    force can be accepted (409 ``TERMS_VERSION_OUTDATED``); accepting it again keeps the
    first acceptance."""
    current = current_terms_version()
    if version != current:
        raise Conflict(
            "These are not the terms in force: read the current version and accept it",
            code="TERMS_VERSION_OUTDATED",
            details={"current_version": current},
        )
    if not accepted_current_terms(supplier):
        supplier.terms_version, supplier.terms_accepted_at = version, utcnow()
        supplier.terms_accepted_ip = ip_address
        record_audit("supplier.terms_accepted", supplier, details={"version": version})
        db.session.flush()
    return terms_status(supplier)
