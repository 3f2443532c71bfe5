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


def _finish_request(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if g.get("hsts"):
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
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
    return response


def register_request_hooks(app: Flask) -> None:
    hsts = app.config["ENV_NAME"] == "production"

    @app.before_request
    def start_request():
        _start_request()
        g.hsts = hsts

    app.after_request(_finish_request)
