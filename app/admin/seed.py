"""Development data for the back office: a few supplier applications waiting for a
decision (the admins' feed shows them). The admin of each sub-role comes from
``app.auth.seed``. Idempotent: applicants are matched by email."""

from __future__ import annotations

from app.auth import accounts
from app.auth.models import UserRole
from app.auth.seed import DEMO_PASSWORD, DOMAIN
from app.extensions import db
from app.signals import supplier_applied

APPLICANTS = (
    # mailbox, first name, last name, phone, business name, KRA PIN
    ("applicant1", "Wanjiru", "Kariuki", "254733100001", "Thika Road Accessories", "A223456781B"),
    ("applicant2", "Otieno", "Ouma", "254733100002", "Lakeside Refurbished Laptops", "A223456782C"),
    ("applicant3", "Halima", "Abdi", "254733100003", "Eastleigh Mobile Spares", "P223456783D"),
)


def seed() -> str:
    """Create the pending applications that do not exist yet (flushes)."""
    created = 0
    for mailbox, first_name, last_name, phone, business_name, kra_pin in APPLICANTS:
        email = f"{mailbox}@{DOMAIN}"
        if accounts.find_user(email) is not None:
            continue
        user = accounts.create_user(
            email=email,
            password=DEMO_PASSWORD,
            first_name=first_name,
            last_name=last_name,
            role=UserRole.SUPPLIER,
            phone=phone,
            business_name=business_name,
            verified=True,
        )
        user.supplier_profile.kra_pin = kra_pin
        db.session.flush()
        supplier_applied.send(user.supplier_profile)
        created += 1
    return f"{len(APPLICANTS)} pending supplier applications ({created} new)"
