"""Google Sign-In: the authorization URL, the code exchange, userinfo, ID-token checks.

Speaks Google's OAuth 2.0 / OpenID Connect wire format and nothing else. ID tokens are
verified with google-auth against Google's published keys (JWKS): signature, audience
(our client id), issuer and expiry. Built from config by ``build_google`` (see
``app.services.init_providers``); without ``GOOGLE_CLIENT_ID`` there is none and
sign-in answers 503 ``PROVIDER_NOT_CONFIGURED``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import google.auth.exceptions
import google.auth.transport.requests
import jwt
import requests
from google.oauth2 import id_token as google_id_token

from app.errors import BadRequest, ProviderError, ProviderNotConfigured, Unauthorized
from app.services import http

log = logging.getLogger(__name__)

AUTHORIZATION_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
USERINFO_URL = "https://openidconnect.googleapis.com/v1/userinfo"
CERTS_URL = "https://www.googleapis.com/oauth2/v3/certs"
ISSUERS = ("accounts.google.com", "https://accounts.google.com")
SCOPES = "openid email profile"
TIMEOUT = (5.0, 10.0)  # (connect, read) seconds, every call


@dataclass(frozen=True)
class GoogleIdentity:
    """Who Google says signed in (from an ID token or the userinfo endpoint)."""

    sub: str
    email: str
    email_verified: bool
    given_name: str | None = None
    family_name: str | None = None
    picture: str | None = None

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> GoogleIdentity:
        if not claims.get("sub") or not claims.get("email"):
            raise Unauthorized("Google did not share an email address", code="INVALID_TOKEN")
        verified = claims.get("email_verified")
        return cls(
            sub=str(claims["sub"]),
            email=str(claims["email"]).strip().lower(),
            # ID tokens have had it as the string "true" as well as a boolean
            email_verified=verified is True or verified == "true",
            given_name=claims.get("given_name"),
            family_name=claims.get("family_name"),
            picture=claims.get("picture"),
        )


class _TimedRequest(google.auth.transport.requests.Request):
    """google-auth's transport with our timeout instead of its 120-second default."""

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        return super().__call__(url, method, body, headers, timeout=TIMEOUT, **kwargs)


class GoogleOAuth:
    def __init__(self, client_id: str, client_secret: str | None, redirect_uri: str):
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri

    def authorization_url(self, state: str) -> str:
        query = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": SCOPES,
            "state": state,
            "access_type": "online",
            "include_granted_scopes": "true",
            "prompt": "select_account",
        }
        return f"{AUTHORIZATION_URL}?{urlencode(query)}"

    def exchange_code(self, code: str) -> dict[str, Any]:
        """Trade an authorization code for Google's tokens (``access_token``, ``id_token``)."""
        if not self.client_secret:
            raise ProviderNotConfigured("Google sign-in is not configured (client secret)")
        response = http.send(
            "Google",
            "POST",
            TOKEN_URL,
            timeout=TIMEOUT,
            data={
                "code": code,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "redirect_uri": self.redirect_uri,
                "grant_type": "authorization_code",
            },
        )
        if response.status_code == 400 and http.json_body(response).get("error") == "invalid_grant":
            raise BadRequest(
                "This Google sign-in has expired or was already used, start again",
                code="INVALID_OAUTH_CODE",
            )
        return self._json(response)

    def userinfo(self, access_token: str) -> GoogleIdentity:
        response = http.send(
            "Google",
            "GET",
            USERINFO_URL,
            timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {access_token}"},
        )
        return GoogleIdentity.from_claims(self._json(response))

    def verify_id_token(self, token: str) -> GoogleIdentity:
        """Check signature (Google's JWKS), audience, issuer and expiry; return the identity."""
        try:
            claims = google_id_token.verify_token(
                token, _TimedRequest(http.session), audience=self.client_id, certs_url=CERTS_URL
            )
        except google.auth.exceptions.TransportError as exc:
            log.error("Google keys unavailable: %s", exc)
            raise ProviderError("Google could not be reached, try again") from None
        except (ValueError, jwt.PyJWTError, google.auth.exceptions.GoogleAuthError) as exc:
            log.info("Google ID token refused: %s", exc)
            raise Unauthorized("This Google token is not valid", code="INVALID_TOKEN") from None
        if claims.get("iss") not in ISSUERS or "exp" not in claims:
            raise Unauthorized("This Google token is not valid", code="INVALID_TOKEN")
        return GoogleIdentity.from_claims(claims)

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        body = http.json_body(response)
        if response.status_code != 200 or not body:
            log.error("Google answered %s: %s", response.status_code, response.text[:500])
            raise ProviderError("Google sign-in failed, try again")
        return body


def build_google(config: Mapping[str, Any]) -> GoogleOAuth | None:
    """The Google client, or None without ``GOOGLE_CLIENT_ID`` (sign-in not offered)."""
    if not config.get("GOOGLE_CLIENT_ID"):
        return None
    return GoogleOAuth(
        config["GOOGLE_CLIENT_ID"],
        config.get("GOOGLE_CLIENT_SECRET"),
        config["GOOGLE_REDIRECT_URI"],
    )
