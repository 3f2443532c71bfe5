import bcrypt
import factory
import pyotp

from app.auth.models import (
    AdminProfile,
    AuthProvider,
    CustomerProfile,
    DeliveryAgentProfile,
    SupplierProfile,
    SupplierStatus,
    User,
    UserRole,
)
from app.db import utcnow
from tests.factories.base import Factory

PASSWORD = "Password123"
# Cost 4 keeps the suite fast; verification works the same at any cost.
PASSWORD_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


class UserFactory(Factory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.co.ke")
    password_hash = PASSWORD_HASH
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    phone = factory.Sequence(lambda n: f"2547{n % 100000000:08d}")
    role = UserRole.CUSTOMER
    email_verified_at = factory.LazyFunction(utcnow)

    class Params:
        unverified = factory.Trait(email_verified_at=None)
        disabled = factory.Trait(is_active=False)
        # 2FA on: ``pyotp.TOTP(user.totp_secret).now()`` is a valid code
        two_factor = factory.Trait(
            totp_secret=factory.LazyFunction(pyotp.random_base32), totp_enabled=True
        )
        # made with Google, no password yet
        google = factory.Trait(
            password_hash=None,
            auth_provider=AuthProvider.GOOGLE,
            google_sub=factory.Sequence(lambda n: f"1{n:020d}"),
        )


class CustomerProfileFactory(Factory):
    class Meta:
        model = CustomerProfile

    user = factory.SubFactory(UserFactory, role=UserRole.CUSTOMER)


class SupplierProfileFactory(Factory):
    class Meta:
        model = SupplierProfile

    user = factory.SubFactory(UserFactory, role=UserRole.SUPPLIER)
    business_name = factory.Sequence(lambda n: f"Supplier {n} Electronics Ltd")
    mpesa_payout_number = factory.Sequence(lambda n: f"2547{(n + 50000000) % 100000000:08d}")
    status = SupplierStatus.APPROVED
    is_approved = True
    approved_at = factory.LazyFunction(utcnow)

    class Params:
        pending = factory.Trait(status=SupplierStatus.PENDING, is_approved=False, approved_at=None)
        suspended = factory.Trait(status=SupplierStatus.SUSPENDED, is_approved=False)
        rejected = factory.Trait(
            status=SupplierStatus.REJECTED, is_approved=False, approved_at=None
        )


class AdminProfileFactory(Factory):
    class Meta:
        model = AdminProfile

    user = factory.SubFactory(UserFactory, role=UserRole.ADMIN)
    department = "Operations"


class DeliveryAgentProfileFactory(Factory):
    class Meta:
        model = DeliveryAgentProfile

    user = factory.SubFactory(UserFactory, role=UserRole.DELIVERY_AGENT)
    vehicle_type = "Motorbike"
    mpesa_payout_number = factory.Sequence(lambda n: f"2547{(n + 70000000) % 100000000:08d}")
