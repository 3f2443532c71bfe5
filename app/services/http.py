"""Outbound HTTP for every provider client: one shared ``requests.Session``.

One session per process keeps connections to Safaricom and Paystack alive across
requests (``requests.Session`` is safe to share between threads for this use). Every
call names its timeout explicitly; transport failures become ``ProviderError`` (502).
"""

from __future__ import annotations

import logging

import requests

from app.errors import ProviderError

log = logging.getLogger(__name__)

# (connect, read) seconds. Daraja answers STK requests in about a second; a read
# timeout above 30 s would keep a customer's checkout spinning for nothing.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)

session = requests.Session()
session.headers["User-Agent"] = "QuantumGear/1.0"


class ProviderTimeout(ProviderError):
    """The request went out and no answer came in time: the provider may have acted on
    it. Callers that move money treat this as *unknown*, never as *refused*."""


def send(
    provider: str,
    method: str,
    url: str,
    *,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    **kwargs,
) -> requests.Response:
    """One HTTP call; a timeout or connection failure raises ``ProviderError``
    (``ProviderTimeout`` when the request was sent but the answer never came)."""
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except requests.ReadTimeout:
        log.warning("%s %s %s: no answer in time", provider, method, url)
        raise ProviderTimeout(
            f"{provider} did not answer in time", details={"provider": provider}
        ) from None
    except requests.Timeout:
        log.warning("%s %s %s timed out", provider, method, url)
        raise ProviderError(
            f"{provider} did not answer in time", details={"provider": provider}
        ) from None
    except requests.RequestException as exc:
        log.warning("%s %s %s failed: %s", provider, method, url, exc)
        raise ProviderError(
            f"{provider} could not be reached", details={"provider": provider}
        ) from None


def json_body(response: requests.Response) -> dict:
    """The response's JSON object, or ``{}`` when the body is empty or not an object."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
