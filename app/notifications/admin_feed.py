"""Supplier applications and decisions: admins are told of a new application in their
feed; the supplier is told (in the app and by email) what was decided."""

from __future__ import annotations

from app.auth.models import SupplierProfile, SupplierStatus, UserRole
from app.notifications.operations import notify, notify_admins
from app.signals import supplier_applied, supplier_status_changed

DECISIONS = {
    SupplierStatus.APPROVED: (
        "Your supplier account is approved",
        "You can now list products and receive orders.",
    ),
    SupplierStatus.REJECTED: (
        "Your supplier application was not approved",
        "Your application to sell on Quantum Gear was not approved.",
    ),
    SupplierStatus.SUSPENDED: (
        "Your supplier account is suspended",
        "Your products are hidden from the store and your payouts are held.",
    ),
}


@supplier_applied.connect
def tell_admins_of_application(profile: SupplierProfile, **_) -> None:
    notify_admins(
        "supplier-application",
        roles=(UserRole.SUPPORT_ADMIN,),
        title="New supplier application",
        body=f"{profile.business_name} ({profile.user.email}) asks to sell on the store.",
        path=f"/admin/suppliers/{profile.id}",
    )


@supplier_status_changed.connect
def tell_supplier_of_decision(profile: SupplierProfile, *, new, reason=None, **_) -> None:
    title, body = DECISIONS[new]
    notify(
        profile.user,
        f"supplier-{str(new).lower()}",
        title=title,
        body=body + (f" Reason: {reason}" if reason else ""),
        path="/supplier/dashboard",
        email=(title, "supplier_decision"),
        user=profile.user,
        profile=profile,
        status=str(new),
        reason=reason,
    )
