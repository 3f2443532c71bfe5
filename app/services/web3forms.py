"""Web3Forms (contact form relay): one JSON ``POST`` to ``/submit``.

``Web3FormsClient`` speaks Web3Forms' wire format over the shared HTTP session (see the
wire-format reference, section 11). Without ``WEB3FORMS_ACCESS_KEY`` there is no client
(``build_web3forms`` returns None) and the local fallback applies: the contact domain
emails the message to the support address instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.errors import ProviderError
from app.services.http import DEFAULT_TIMEOUT, json_body, send

PROVIDER = "Web3Forms"


class Web3FormsError(ProviderError):
    def __init__(self, message: str, *, http_status: int = 0):
        super().__init__(
            f"Web3Forms error: {message}",
            details={"provider": "WEB3FORMS", "http_status": http_status},
        )


class Web3FormsClient:
    def __init__(
        self, *, access_key: str, url: str, timeout: tuple[float, float] = DEFAULT_TIMEOUT
    ):
        self.access_key = access_key
        self.url = url
        self.timeout = timeout

    def body(
        self, *, name: str, email: str, subject: str, message: str, from_name: str, **extra: str
    ) -> dict[str, str]:
        """The submission: ``email`` becomes the Reply-To; ``extra`` fields are forwarded
        as-is (empty ones left out); ``botcheck`` is Web3Forms' honeypot, always empty."""
        fields = {key: value for key, value in extra.items() if value}
        return {
            "access_key": self.access_key,
            "name": name,
            "email": email,
            "subject": subject,
            "from_name": from_name,
            "message": message,
            **fields,
            "botcheck": "",
        }

    def submit(self, body: Mapping[str, Any]) -> str:
        """Send one submission; its message on success, else ``Web3FormsError``.

        Success is HTTP 200 *and* ``success: true``; the message is read from the flat
        body or from the nested ``body.message`` of the documented form.
        """
        response = send(
            PROVIDER,
            "POST",
            self.url,
            json=dict(body),
            headers={"Accept": "application/json"},
            timeout=self.timeout,
        )
        answer = json_body(response)
        nested = answer.get("body") if isinstance(answer.get("body"), dict) else {}
        message = str(answer.get("message") or nested.get("message") or "").strip()
        if response.status_code != 200 or answer.get("success") is not True:
            raise Web3FormsError(
                message or f"HTTP {response.status_code}", http_status=response.status_code
            )
        return message


def build_web3forms(config: Mapping[str, Any]) -> Web3FormsClient | None:
    """The client when an access key is set, else None (the support email instead)."""
    if not config.get("WEB3FORMS_ACCESS_KEY"):
        return None
    return Web3FormsClient(access_key=config["WEB3FORMS_ACCESS_KEY"], url=config["WEB3FORMS_URL"])
