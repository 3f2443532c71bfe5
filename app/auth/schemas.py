"""Request and response schemas of ``/api/auth``.

Passwords, codes and tokens are ``load_only``; users are dumped without hashes, TOTP
secrets, recovery codes or tokens. Every request schema rejects unknown fields, so no
role, approval or balance can be slipped into a profile update.
"""

from __future__ import annotations

import re

import marshmallow as ma

from app.auth.models import AuthProvider, OTPPurpose, UserRole
from app.auth.passwords import MAX_PASSWORD_BYTES
from app.fields import Phone, Timestamp
from app.pagination import PaginationSchema

SELF_SERVICE_ROLES = (UserRole.CUSTOMER, UserRole.SUPPLIER)
KRA_PIN = re.compile(r"^[AP]\d{9}[A-Z]$")


# --- fields --------------------------------------------------------------------------
class Email(ma.fields.Email):
    """An email address, trimmed and lower-cased (emails are case-insensitive)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "jane@example.co.ke")
        super().__init__(validate=ma.validate.Length(max=255), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()


class Text(ma.fields.String):
    """A trimmed string of ``1..max_length`` characters."""

    def __init__(self, max_length: int, **kwargs):
        super().__init__(validate=ma.validate.Length(min=1, max=max_length), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def strong_password(value: str) -> None:
    """The seed's rule: 8+ characters with an upper-case letter, a lower-case one, a digit."""
    problems = []
    if len(value) < 8:
        problems.append("Must be at least 8 characters long.")
    if len(value.encode()) > MAX_PASSWORD_BYTES:
        problems.append(f"Must be at most {MAX_PASSWORD_BYTES} bytes long.")
    if not re.search(r"[A-Z]", value):
        problems.append("Must contain an upper-case letter.")
    if not re.search(r"[a-z]", value):
        problems.append("Must contain a lower-case letter.")
    if not re.search(r"\d", value):
        problems.append("Must contain a digit.")
    if problems:
        raise ma.ValidationError(problems)


def NewPassword(**kwargs) -> ma.fields.String:  # noqa: N802 (a field factory)
    return ma.fields.String(
        required=True,
        load_only=True,
        validate=strong_password,
        metadata={"description": "8+ characters with upper, lower case and a digit"},
        **kwargs,
    )


def Secret(max_length: int = 1024, **kwargs) -> ma.fields.String:  # noqa: N802 (a factory)
    kwargs.setdefault("required", True)
    return ma.fields.String(
        load_only=True, validate=ma.validate.Length(min=1, max=max_length), **kwargs
    )


def SecondFactor(**kwargs) -> ma.fields.String:  # noqa: N802 (a field factory)
    return ma.fields.String(
        load_only=True,
        validate=ma.validate.Length(min=6, max=32),
        metadata={"description": "a current TOTP code or one of the recovery codes"},
        **kwargs,
    )


SixDigits = ma.validate.Regexp(r"^\d{6}$", error="Must be a six-digit code.")


# --- users ---------------------------------------------------------------------------
class CustomerProfileSchema(ma.Schema):
    date_of_birth = ma.fields.Date(allow_none=True)
    marketing_opt_in = ma.fields.Boolean()


class SupplierProfileSchema(ma.Schema):
    id = ma.fields.Integer()
    business_name = ma.fields.String()
    business_registration_number = ma.fields.String(allow_none=True)
    kra_pin = ma.fields.String(allow_none=True)
    business_address = ma.fields.String(allow_none=True)
    mpesa_payout_number = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": "PENDING, APPROVED, REJECTED or SUSPENDED"})
    is_approved = ma.fields.Boolean(metadata={"description": "true exactly when APPROVED"})
    approved_at = Timestamp(allow_none=True)
    terms_accepted_at = Timestamp(allow_none=True)
    terms_version = ma.fields.String(allow_none=True)


class AdminProfileSchema(ma.Schema):
    department = ma.fields.String(allow_none=True)
    title = ma.fields.String(allow_none=True)


class DeliveryAgentProfileSchema(ma.Schema):
    delivery_company_id = ma.fields.Integer(allow_none=True)
    vehicle_type = ma.fields.String(allow_none=True)
    vehicle_registration = ma.fields.String(allow_none=True)
    mpesa_payout_number = ma.fields.String(allow_none=True)
    is_available = ma.fields.Boolean()


class UserSchema(ma.Schema):
    """A user as the API shows it: never a hash, a TOTP secret, a recovery code or a token."""

    id = ma.fields.Integer()
    email = ma.fields.String()
    first_name = ma.fields.String()
    last_name = ma.fields.String()
    full_name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    avatar_url = ma.fields.String(allow_none=True)
    role = ma.fields.Enum(UserRole)
    auth_provider = ma.fields.Enum(AuthProvider)
    is_active = ma.fields.Boolean()
    is_verified = ma.fields.Boolean()
    email_verified_at = Timestamp(allow_none=True)
    two_factor_enabled = ma.fields.Boolean(attribute="totp_enabled")
    has_password = ma.fields.Boolean()
    last_login_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    customer_profile = ma.fields.Nested(CustomerProfileSchema, allow_none=True)
    supplier_profile = ma.fields.Nested(SupplierProfileSchema, allow_none=True)
    admin_profile = ma.fields.Nested(AdminProfileSchema, allow_none=True)
    delivery_agent_profile = ma.fields.Nested(DeliveryAgentProfileSchema, allow_none=True)


class TokenPairSchema(ma.Schema):
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()


class AuthResultSchema(TokenPairSchema):
    user = ma.fields.Nested(UserSchema)


class SessionSchema(ma.Schema):
    id = ma.fields.Integer()
    user_agent = ma.fields.String(allow_none=True)
    ip_address = ma.fields.String(allow_none=True)
    created_at = Timestamp()
    last_seen_at = Timestamp()
    expires_at = Timestamp()
    current = ma.fields.Boolean(
        metadata={"description": "true for the session of the token making this request"}
    )


class SessionQuerySchema(PaginationSchema):
    pass


# --- register / login ----------------------------------------------------------------
class RegisterSchema(ma.Schema):
    email = Email(required=True)
    password = NewPassword()
    first_name = Text(100, required=True)
    last_name = Text(100, required=True)
    phone = Phone(allow_none=True)
    role = ma.fields.Enum(
        UserRole,
        load_default=UserRole.CUSTOMER,
        validate=ma.validate.OneOf(SELF_SERVICE_ROLES, error="Must be CUSTOMER or SUPPLIER."),
    )
    business_name = Text(200, metadata={"description": "required when role is SUPPLIER"})

    @ma.validates_schema
    def business_name_for_suppliers(self, data, **kwargs):
        if data["role"] == UserRole.SUPPLIER and not data.get("business_name"):
            raise ma.ValidationError("Suppliers must give a business name.", "business_name")
        if data["role"] != UserRole.SUPPLIER and "business_name" in data:
            raise ma.ValidationError("Only suppliers have a business name.", "business_name")


class LoginSchema(ma.Schema):
    email = Email(required=True)
    password = Secret()
    totp_code = SecondFactor()


# --- codes, verification, passwords ---------------------------------------------------
class EmailSchema(ma.Schema):
    email = Email(required=True)


class SendOtpSchema(EmailSchema):
    purpose = ma.fields.Enum(OTPPurpose, load_default=OTPPurpose.EMAIL_VERIFICATION)


class VerifyOtpSchema(SendOtpSchema):
    code = ma.fields.String(required=True, load_only=True, validate=SixDigits)


class VerifyOtpResultSchema(ma.Schema):
    purpose = ma.fields.Enum(OTPPurpose)
    verified = ma.fields.Boolean()
    reset_token = ma.fields.String(
        metadata={"description": "for PASSWORD_RESET: pass it to /auth/reset-password"}
    )


class VerifyEmailSchema(ma.Schema):
    token = ma.fields.String(load_only=True, validate=ma.validate.Length(min=1, max=1024))
    email = Email()
    code = ma.fields.String(load_only=True, validate=SixDigits)

    @ma.validates_schema
    def token_or_code(self, data, **kwargs):
        if "token" in data:
            if "email" in data or "code" in data:
                raise ma.ValidationError("Send either a token or an email and a code.", "token")
            return
        missing = {name: ["Missing data for required field."] for name in ("email", "code")}
        missing = {name: errors for name, errors in missing.items() if name not in data}
        if missing:
            raise ma.ValidationError(missing)


class ResetPasswordSchema(ma.Schema):
    token = Secret()
    new_password = NewPassword()


class ChangePasswordSchema(ma.Schema):
    current_password = Secret()
    new_password = NewPassword()

    @ma.validates_schema
    def differs(self, data, **kwargs):
        if data.get("current_password") == data.get("new_password"):
            raise ma.ValidationError("Must differ from the current password.", "new_password")


class SetPasswordSchema(ma.Schema):
    new_password = NewPassword()


class VerifiedResultSchema(ma.Schema):
    verified = ma.fields.Boolean()
    user = ma.fields.Nested(UserSchema)


# --- two-factor ----------------------------------------------------------------------
class PasswordSchema(ma.Schema):
    password = Secret()


class TwoFactorSetupSchema(ma.Schema):
    secret = ma.fields.String()
    otpauth_uri = ma.fields.String()


class CodeSchema(ma.Schema):
    code = ma.fields.String(required=True, load_only=True, validate=SixDigits)


class RecoveryCodesSchema(ma.Schema):
    two_factor_enabled = ma.fields.Boolean()
    recovery_codes = ma.fields.List(
        ma.fields.String(), metadata={"description": "shown once; each works once"}
    )


class DisableTwoFactorSchema(ma.Schema):
    code = SecondFactor()
    password = Secret(required=False)

    @ma.validates_schema
    def code_or_password(self, data, **kwargs):
        if not data.get("code") and not data.get("password"):
            raise ma.ValidationError("Send a code or your password.", "code")


class TwoFactorStateSchema(ma.Schema):
    two_factor_enabled = ma.fields.Boolean()


# --- Google --------------------------------------------------------------------------
class GoogleTokenSchema(ma.Schema):
    id_token = Secret(max_length=8192)
    totp_code = SecondFactor()


class GoogleAuthorizationSchema(ma.Schema):
    authorization_url = ma.fields.String()
    state = ma.fields.String()


class GoogleCallbackQuerySchema(ma.Schema):
    """Google adds ``scope``, ``authuser``, ``prompt``, ``hd``...: extra keys are ignored."""

    class Meta:
        unknown = ma.EXCLUDE

    code = ma.fields.String(validate=ma.validate.Length(min=1, max=2048))
    state = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256))
    error = ma.fields.String()

    @ma.validates_schema
    def code_or_error(self, data, **kwargs):
        if "code" not in data and "error" not in data:
            raise ma.ValidationError("Missing data for required field.", "code")


# --- profile -------------------------------------------------------------------------
class ProfileUpdateSchema(ma.Schema):
    first_name = Text(100)
    last_name = Text(100)
    phone = Phone(allow_none=True)
    avatar_url = ma.fields.URL(
        allow_none=True, schemes={"http", "https"}, validate=ma.validate.Length(max=500)
    )


class CompleteProfileSchema(ma.Schema):
    """Role-specific fields; a field that is not your role's is a validation error."""

    phone = Phone()
    date_of_birth = ma.fields.Date(metadata={"description": "customers"})
    marketing_opt_in = ma.fields.Boolean(metadata={"description": "customers"})
    business_name = Text(200, metadata={"description": "suppliers (required)"})
    business_registration_number = Text(100, metadata={"description": "suppliers"})
    kra_pin = ma.fields.String(
        validate=ma.validate.Regexp(KRA_PIN, error="Not a valid KRA PIN (e.g. A123456789B)."),
        metadata={"description": "suppliers (required)", "example": "A123456789B"},
    )
    business_address = Text(255, metadata={"description": "suppliers"})
    mpesa_payout_number = Phone(
        metadata={"description": "suppliers, delivery agents (needs a verified email)"}
    )
    vehicle_type = Text(50, metadata={"description": "delivery agents"})
    vehicle_registration = Text(20, metadata={"description": "delivery agents"})
    department = Text(100, metadata={"description": "admins"})
    title = Text(100, metadata={"description": "admins"})

    @ma.pre_load
    def upper_case_pin(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("kra_pin"), str):
            data = data | {"kra_pin": data["kra_pin"].strip().upper()}
        return data
