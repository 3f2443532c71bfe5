"""Accounts and authentication: ``/api/auth``.

Register, log in and out, refresh (rotating), sessions, email verification and codes,
password reset and change, two-factor (TOTP), Google sign-in and the user's profile.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, redirect, request
from flask_jwt_extended import get_jwt
from werkzeug.http import dump_cookie

from app.api import Blueprint
from app.auth import accounts, google, limits, signin, tokens, two_factor, verification
from app.auth.access import auth_required, current_user, login_required
from app.auth.schemas import (
    AuthResultSchema,
    ChangePasswordSchema,
    CodeSchema,
    CompleteProfileSchema,
    DisableTwoFactorSchema,
    EmailSchema,
    GoogleAuthorizationSchema,
    GoogleCallbackQuerySchema,
    GoogleTokenSchema,
    LoginSchema,
    PasswordSchema,
    ProfileUpdateSchema,
    RecoveryCodesSchema,
    RegisterSchema,
    ResetPasswordSchema,
    SendOtpSchema,
    SessionQuerySchema,
    SessionSchema,
    SetPasswordSchema,
    TokenPairSchema,
    TwoFactorSetupSchema,
    TwoFactorStateSchema,
    UserSchema,
    VerifiedResultSchema,
    VerifyEmailSchema,
    VerifyOtpResultSchema,
    VerifyOtpSchema,
)
from app.errors import BadRequest
from app.extensions import db
from app.services import google_verifier

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and authentication")

SAME_ANSWER = "If an account exists for this email, we have sent it a message"


fails = blp.fails  # ``fails(_401="INVALID_CREDENTIALS, ...")``


def _client() -> dict[str, str | None]:
    return {"user_agent": request.headers.get("User-Agent"), "ip_address": request.remote_addr}


# --- register, login, tokens ----------------------------------------------------------
@blp.route("/register", methods=["POST"])
@blp.arguments(RegisterSchema)
@blp.response(201, AuthResultSchema, message="Account created")
@fails(_409="EMAIL_TAKEN", _429="RATE_LIMITED")
@limits.register
def register(data):
    """Sign up as a CUSTOMER (default) or a SUPPLIER (with ``business_name``, unapproved).

    The user is signed in at once; a verification email (link and six-digit code) is sent.
    """
    result = signin.register(data, **_client())
    db.session.commit()
    return result


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, AuthResultSchema, message="Signed in")
@fails(
    _401="INVALID_CREDENTIALS (also while locked after 10 failures in 15 minutes), "
    "TWO_FACTOR_REQUIRED (send totp_code), INVALID_OTP",
    _403="ACCOUNT_DISABLED",
    _429="RATE_LIMITED",
)
@limits.login
def login(data):
    """Sign in with email and password (and ``totp_code`` when 2FA is on)."""
    result = signin.login(data["email"], data["password"], data.get("totp_code"), **_client())
    db.session.commit()
    return result


@blp.route("/refresh", methods=["POST"])
@blp.response(200, TokenPairSchema, message="Tokens refreshed")
@fails(_401="TOKEN_EXPIRED, TOKEN_REVOKED (a used refresh token revokes its session)")
@auth_required(refresh=True)
def refresh():
    """Send the refresh token as the Bearer: a new pair comes back, the old one is dead."""
    pair = tokens.rotate_session(current_user(), get_jwt())
    db.session.commit()
    return pair


@blp.route("/me")
@blp.response(200, UserSchema)
@fails(_401="UNAUTHORIZED, TOKEN_EXPIRED, TOKEN_REVOKED", _403="ACCOUNT_DISABLED")
@login_required
def me():
    """The signed-in user with the profile of their role."""
    return current_user()


@blp.route("/logout", methods=["POST"])
@blp.response(200, message="Signed out")
@login_required
def logout():
    """Revoke this session: its access and refresh tokens stop working everywhere."""
    signin.logout(current_user(), get_jwt()["sid"])
    db.session.commit()


@blp.route("/sessions")
@blp.arguments(SessionQuerySchema, location="query")
@blp.response(200, SessionSchema, paginated=True)
@login_required
def list_sessions(params):
    """The user's signed-in devices (open sessions), newest first."""
    return signin.list_sessions(current_user(), params, get_jwt()["sid"])


@blp.route("/sessions/<int:session_id>", methods=["DELETE"])
@blp.response(200, message="Session revoked")
@fails(_404="NOT_FOUND")
@login_required
def revoke_session(session_id):
    """Sign one session out (yours only)."""
    signin.revoke_session(current_user(), session_id)
    db.session.commit()


# --- codes and email verification -----------------------------------------------------
@blp.route("/send-otp", methods=["POST"])
@blp.arguments(SendOtpSchema)
@blp.response(200, message=SAME_ANSWER)
@fails(_429="RATE_LIMITED")
@limits.send_code
def send_otp(data):
    """Email a six-digit code (valid 10 minutes, 5 attempts) for EMAIL_VERIFICATION or
    PASSWORD_RESET. The answer is the same whether or not the account exists."""
    verification.send_otp(data["email"], data["purpose"])
    db.session.commit()


@blp.route("/verify-otp", methods=["POST"])
@blp.arguments(VerifyOtpSchema)
@blp.response(200, VerifyOtpResultSchema, message="Code accepted")
@fails(_400="INVALID_OTP (with attempts_remaining), OTP_EXPIRED", _429="RATE_LIMITED")
@limits.check_code
def verify_otp(data):
    """Check a code: EMAIL_VERIFICATION verifies the email; PASSWORD_RESET returns a
    ``reset_token`` for ``/auth/reset-password``."""
    result = verification.verify_otp(data["email"], data["purpose"], data["code"])
    db.session.commit()
    return result


@blp.route("/verify-email", methods=["POST"])
@blp.arguments(VerifyEmailSchema)
@blp.response(200, VerifiedResultSchema, message="Email verified")
@fails(_400="INVALID_TOKEN, TOKEN_EXPIRED, INVALID_OTP, OTP_EXPIRED", _429="RATE_LIMITED")
@limits.check_code
def verify_email(data):
    """Verify the email with the link's ``token``, or with ``email`` and ``code``."""
    user = verification.verify_email(**data)
    db.session.commit()
    return {"verified": True, "user": user}


@blp.route("/resend-verification", methods=["POST"])
@blp.arguments(EmailSchema)
@blp.response(200, message=SAME_ANSWER)
@fails(_429="RATE_LIMITED")
@limits.send_code
def resend_verification(data):
    """Send the verification email again (nothing is sent for unknown or verified ones)."""
    verification.resend_verification(data["email"])
    db.session.commit()


# --- passwords -----------------------------------------------------------------------
@blp.route("/forgot-password", methods=["POST"])
@blp.arguments(EmailSchema)
@blp.response(200, message=SAME_ANSWER)
@fails(_429="RATE_LIMITED")
@limits.send_code
def forgot_password(data):
    """Email a reset link (valid 1 hour, once) and a six-digit code."""
    verification.forgot_password(data["email"])
    db.session.commit()


@blp.route("/reset-password", methods=["POST"])
@blp.arguments(ResetPasswordSchema)
@blp.response(200, message="Password changed, sign in again")
@fails(_400="INVALID_TOKEN (unknown or already used), TOKEN_EXPIRED", _429="RATE_LIMITED")
@limits.check_code
def reset_password(data):
    """Set a new password with the emailed token; every session is signed out."""
    verification.reset_password(data["token"], data["new_password"])
    db.session.commit()


@blp.route("/change-password", methods=["POST"])
@blp.arguments(ChangePasswordSchema)
@blp.response(200, message="Password changed")
@fails(_400="INVALID_PASSWORD", _429="RATE_LIMITED")
@login_required
@limits.sensitive
def change_password(data):
    """Change the password (current one required); other sessions are signed out."""
    verification.change_password(
        current_user(),
        data["current_password"],
        data["new_password"],
        session_id=get_jwt()["sid"],
    )
    db.session.commit()


@blp.route("/set-password", methods=["POST"])
@blp.arguments(SetPasswordSchema)
@blp.response(200, message="Password set")
@fails(_409="PASSWORD_ALREADY_SET")
@login_required
@limits.sensitive
def set_password(data):
    """Give an account made with Google a password, so it can sign in with email too."""
    verification.set_password(current_user(), data["new_password"], session_id=get_jwt()["sid"])
    db.session.commit()


# --- two-factor ----------------------------------------------------------------------
@blp.route("/enable-2fa", methods=["POST"])
@blp.arguments(PasswordSchema)
@blp.response(200, TwoFactorSetupSchema, message="Scan the code, then confirm with verify-2fa")
@fails(_400="INVALID_PASSWORD", _409="TWO_FACTOR_ALREADY_ENABLED", _429="RATE_LIMITED")
@login_required
@limits.sensitive
def enable_2fa(data):
    """Start 2FA: returns the TOTP secret and its ``otpauth://`` URI (for a QR code)."""
    result = two_factor.enable_two_factor(current_user(), data["password"])
    db.session.commit()
    return result


@blp.route("/verify-2fa", methods=["POST"])
@blp.arguments(CodeSchema)
@blp.response(200, RecoveryCodesSchema, message="Two-factor authentication is on")
@fails(
    _400="INVALID_OTP",
    _409="TWO_FACTOR_ALREADY_ENABLED, TWO_FACTOR_NOT_SET_UP",
    _429="RATE_LIMITED",
)
@login_required
@limits.sensitive
def verify_2fa(data):
    """Confirm with a code from the app: 2FA turns on; ten one-time recovery codes return."""
    result = two_factor.verify_two_factor(current_user(), data["code"])
    db.session.commit()
    return result


@blp.route("/disable-2fa", methods=["POST"])
@blp.arguments(DisableTwoFactorSchema)
@blp.response(200, TwoFactorStateSchema, message="Two-factor authentication is off")
@fails(_400="INVALID_OTP, INVALID_PASSWORD", _409="TWO_FACTOR_NOT_ENABLED", _429="RATE_LIMITED")
@login_required
@limits.sensitive
def disable_2fa(data):
    """Turn 2FA off with a current code (or a recovery code) or the password."""
    result = two_factor.disable_two_factor(
        current_user(), code=data.get("code"), password=data.get("password")
    )
    db.session.commit()
    return result


# --- Google --------------------------------------------------------------------------
def _state_cookie(value: str, max_age: int) -> dict[str, str]:
    cookie = dump_cookie(
        tokens.OAUTH_STATE_COOKIE,
        value,
        max_age=max_age,
        path="/api/auth/google",
        secure=current_app.config["ENV_NAME"] == "production",
        httponly=True,
        samesite="Lax",
    )
    return {"Set-Cookie": cookie}


@blp.route("/google")
@blp.response(200, GoogleAuthorizationSchema)
@fails(_503="PROVIDER_NOT_CONFIGURED")
def google_start():
    """Where to send the browser to sign in with Google. ``state`` is bound to this
    browser by an HttpOnly cookie, checked by the callback (10 minutes)."""
    client = google_verifier()
    state, cookie = tokens.new_oauth_state()
    body = {"authorization_url": client.authorization_url(state), "state": state}
    return body, 200, _state_cookie(cookie, tokens.OAUTH_STATE_MAX_AGE)


@blp.route("/google/callback")
@blp.arguments(GoogleCallbackQuerySchema, location="query")
@blp.response(200, AuthResultSchema, message="Signed in with Google")
@fails(
    _400="INVALID_STATE, INVALID_OAUTH_CODE, OAUTH_DENIED",
    _401="TWO_FACTOR_REQUIRED (use POST /auth/google/token with totp_code)",
    _403="ACCOUNT_DISABLED",
    _409="EMAIL_TAKEN (an unverified Google email matches an account)",
    _502="PROVIDER_ERROR",
    _503="PROVIDER_NOT_CONFIGURED",
)
def google_callback(query):
    """Google sends the browser back here. A browser (``Accept: text/html``) is redirected
    to ``FRONTEND_URL/auth/google/callback#access_token=...&refresh_token=...``; an API
    client gets the login answer as JSON."""
    client = google_verifier()
    tokens.check_oauth_state(query["state"], request.cookies.get(tokens.OAUTH_STATE_COOKIE))
    if "error" in query:
        raise BadRequest("Google sign-in was cancelled", code="OAUTH_DENIED")
    identity = client.userinfo(client.exchange_code(query["code"])["access_token"])
    result = google.google_sign_in(identity, totp_code=None, **_client())
    db.session.commit()
    clear_cookie = _state_cookie("", 0)
    if request.accept_mimetypes.accept_html:
        fragment = urlencode({k: result[k] for k in ("access_token", "refresh_token")})
        response = redirect(f"{current_app.config['FRONTEND_URL']}/auth/google/callback#{fragment}")
        response.headers.extend(clear_cookie)
        return response
    return result, 200, clear_cookie


@blp.route("/google/token", methods=["POST"])
@blp.arguments(GoogleTokenSchema)
@blp.response(200, AuthResultSchema, message="Signed in with Google")
@fails(
    _401="INVALID_TOKEN, TWO_FACTOR_REQUIRED, INVALID_OTP",
    _403="ACCOUNT_DISABLED",
    _409="EMAIL_TAKEN",
    _502="PROVIDER_ERROR",
    _503="PROVIDER_NOT_CONFIGURED",
)
@limits.login
def google_token(data):
    """Sign in with a Google ID token (Google Identity Services / mobile SDKs); its
    signature, audience, issuer and expiry are checked. An account with the same
    verified email is linked, not duplicated."""
    identity = google_verifier().verify_id_token(data["id_token"])
    result = google.google_sign_in(identity, totp_code=data.get("totp_code"), **_client())
    db.session.commit()
    return result


# --- profile -------------------------------------------------------------------------
@blp.route("/profile", methods=["PUT"])
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, UserSchema, message="Profile updated")
@login_required
def update_profile(data):
    """Change name, phone or avatar (any other field is refused)."""
    user = accounts.update_profile(current_user(), data)
    db.session.commit()
    return user


@blp.route("/complete-profile", methods=["POST"])
@blp.arguments(CompleteProfileSchema)
@blp.response(200, UserSchema, message="Profile completed")
@fails(_403="EMAIL_NOT_VERIFIED (to set mpesa_payout_number)")
@login_required
def complete_profile(data):
    """Fill in the fields of your role. Customer: ``phone`` (required), ``date_of_birth``,
    ``marketing_opt_in``. Supplier: ``phone``, ``business_name``, ``kra_pin`` (required),
    ``business_registration_number``, ``business_address``, ``mpesa_payout_number``.
    Delivery agent: ``phone``, ``vehicle_type`` (required), ``vehicle_registration``,
    ``mpesa_payout_number``. Admins: ``phone``, ``department``, ``title``."""
    user = accounts.complete_profile(current_user(), data)
    db.session.commit()
    return user
