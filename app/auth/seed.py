"""Demo accounts for development: one per role, and three approved suppliers.

Idempotent: users are matched by email; an existing user keeps its password (so a
changed demo password survives a re-seed) and gets its role, names and profile back.
Every demo account signs in with ``DEMO_PASSWORD``.
"""

from __future__ import annotations

from app.auth import accounts
from app.auth.models import AuthProvider, SupplierStatus, UserRole
from app.db import utcnow
from app.extensions import db

DEMO_PASSWORD = "QuantumGear2024"

DOMAIN = "quantumgear.co.ke"
ACCOUNTS = (
    # mailbox, role, first name, last name, phone, business name
    ("admin", UserRole.ADMIN, "Amina", "Odhiambo", "254700000001", None),
    ("products", UserRole.PRODUCT_MANAGER, "Peter", "Kamau", "254700000002", None),
    ("finance", UserRole.FINANCE_ADMIN, "Faith", "Wanjiru", "254700000003", None),
    ("support", UserRole.SUPPORT_ADMIN, "Samuel", "Otieno", "254700000004", None),
    ("customer", UserRole.CUSTOMER, "Grace", "Muthoni", "254712345678", None),
    ("delivery", UserRole.DELIVERY_AGENT, "David", "Kiprop", "254722000111", None),
    ("supplier1", UserRole.SUPPLIER, "John", "Mwangi", "254733000001", "Nairobi Phone Hub Ltd"),
    ("supplier2", UserRole.SUPPLIER, "Mercy", "Achieng", "254733000002", "Mombasa Laptop Centre"),
    ("supplier3", UserRole.SUPPLIER, "Brian", "Kiptoo", "254733000003", "Kisumu Gadget World"),
)

# KRA PIN and business address of each demo supplier
SUPPLIER_DETAILS = {
    "supplier1": ("A123456781B", "Moi Avenue, Nairobi"),
    "supplier2": ("A123456782C", "Nyali Centre, Mombasa"),
    "supplier3": ("P123456783D", "Oginga Odinga Street, Kisumu"),
}


def seed() -> str:
    """Upsert the demo accounts (flushes; the caller commits)."""
    created = 0
    now = utcnow()
    for mailbox, role, first_name, last_name, phone, business_name in ACCOUNTS:
        email = f"{mailbox}@{DOMAIN}"
        user = accounts.find_user(email)
        if user is None:
            user = accounts.create_user(
                email=email,
                password=DEMO_PASSWORD,
                first_name=first_name,
                last_name=last_name,
                role=role,
                phone=phone,
                business_name=business_name,
                verified=True,
                approved=True,
            )
            created += 1
        else:
            user.role, user.first_name, user.last_name, user.phone = (
                role,
                first_name,
                last_name,
                phone,
            )
            user.is_active, user.auth_provider = True, AuthProvider.LOCAL
            user.email_verified_at = user.email_verified_at or now
            accounts.attach_profile(user, business_name=business_name, approved=True)
        if role == UserRole.SUPPLIER:
            profile = user.supplier_profile
            profile.business_name = business_name
            profile.kra_pin, profile.business_address = SUPPLIER_DETAILS[mailbox]
            profile.mpesa_payout_number = phone
            if profile.status != SupplierStatus.APPROVED:
                accounts.set_supplier_status(profile, SupplierStatus.APPROVED)
            profile.terms_accepted_at = profile.terms_accepted_at or now
        elif role == UserRole.DELIVERY_AGENT:
            profile = user.delivery_agent_profile
            profile.vehicle_type, profile.vehicle_registration = "Motorbike", "KMEA 123A"
            profile.mpesa_payout_number = phone
    db.session.flush()
    return f"{len(ACCOUNTS)} demo accounts ({created} new), password {DEMO_PASSWORD!r}"
