"""Per-request plumbing: request ids, the access log line and security headers."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, has_request_context, request

access_log = logging.getLogger("app.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every log record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(app: Flask) -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_qg", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler._qg = True
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s [request_id=%(request_id)s] %(message)s"
            )
        )
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else str(uuid.uuid4())
    g.request_started = time.perf_counter()
    # g lives in the app context, which tests share across requests: start with no caller.
    g.pop("current_user", None)
    g.pop("user_id", None)
    g.pop("session_user", None)


def _security_headers(hsts: bool) -> dict[str, str]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    if hsts:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def _log_request(response) -> None:
    started = g.get("request_started")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    access_log.info(
        "%s %s %s %.1fms request_id=%s user_id=%s",
        request.method,
        request.path,
        response.status_code,
        duration_ms,
        g.get("request_id", "-"),
        g.get("user_id", "-"),
    )


def register_request_hooks(app: Flask) -> None:
    headers = _security_headers(hsts=app.config["ENV_NAME"] == "production")

    def finish_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        _log_request(response)
        return response

    # First of all before_request hooks: a 429 from the rate limiter (registered
    # earlier, with the extensions) must already carry the request id.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(finish_request)
