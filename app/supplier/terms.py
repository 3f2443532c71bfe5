"""The supplier terms: which version is in force, and whether a supplier accepted it.

Payouts need the current version accepted (``accepted_current_terms``).
"""

from __future__ import annotations

from flask import current_app

from app.auth.models import SupplierProfile


def current_terms_version() -> str:
    return current_app.config["SUPPLIER_TERMS_VERSION"]


def accepted_current_terms(supplier: SupplierProfile) -> bool:
    return (
        supplier.terms_accepted_at is not None and supplier.terms_version == current_terms_version()
    )
