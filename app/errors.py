"""One error envelope for every failure path.

Domain code raises an ``ApiError`` subclass; the handlers below turn it, and every
HTTP, validation, JWT, integrity and unexpected error, into
``{"success": false, "message", "error": {"code", "details"}, "request_id"}``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, jsonify
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    code = "BAD_REQUEST"
    message = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.details = details or {}
        self.headers = headers or {}


class BadRequest(ApiError):
    pass


class ValidationFailed(ApiError):
    code = "VALIDATION_ERROR"
    message = "Some fields are invalid"


class Unauthorized(ApiError):
    status = 401
    code = "UNAUTHORIZED"
    message = "Authentication required"


class Forbidden(ApiError):
    status = 403
    code = "FORBIDDEN"
    message = "You are not allowed to do this"


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"
    message = "Not found"


class Conflict(ApiError):
    status = 409
    code = "CONFLICT"
    message = "Conflict with the current state"


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"


class Unprocessable(ApiError):
    status = 422
    code = "UNPROCESSABLE"
    message = "The request cannot be carried out"


class InsufficientStock(Unprocessable):
    code = "INSUFFICIENT_STOCK"


class ProviderError(ApiError):
    status = 502
    code = "PROVIDER_ERROR"
    message = "The payment provider could not be reached"


class ProviderNotConfigured(ApiError):
    status = 503
    code = "PROVIDER_NOT_CONFIGURED"
    message = "This provider is not configured"


# Status codes of HTTPExceptions that werkzeug/flask raise, mapped to our codes.
HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}

HTTP_MESSAGES = {
    404: "The requested resource was not found",
    405: "Method not allowed for this endpoint",
    413: "Request body is too large",
    429: "Too many requests, slow down",
    500: "Something went wrong on our side",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
):
    body = {
        "success": False,
        "message": message,
        "error": {"code": code, "details": details or {}},
        "request_id": g.get("request_id"),
    } | (extra or {})
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _rollback() -> None:
    """Undo whatever the failed request flushed (the session, without importing the
    extensions: app.db imports this module)."""
    current_app.extensions["sqlalchemy"].session.rollback()


def _handle_api_error(error: ApiError):
    """A domain refusal changes nothing: whatever the operation flushed is rolled back."""
    _rollback()
    return error_response(error.status, error.code, error.message, error.details, error.headers)


def _handle_http_exception(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if status == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    if status == 429:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
    messages = data.get("messages")
    if messages is not None:
        # webargs validation failure: flatten {"json": {...}} to the field map
        details = {}
        for location_messages in messages.values():
            if isinstance(location_messages, dict):
                details.update(location_messages)
            else:
                details.setdefault("_schema", []).extend(location_messages)
        return error_response(400, "VALIDATION_ERROR", ValidationFailed.message, details, headers)
    code = HTTP_CODES.get(status, "HTTP_ERROR")
    message = HTTP_MESSAGES.get(status) or error.description or error.name
    if status == 400 and error.description:
        message = error.description
    return error_response(status, code, message, None, headers)


def _handle_integrity_error(error: IntegrityError):
    log.warning("integrity error: %s", error.orig)
    _rollback()
    return error_response(409, "CONFLICT", "This conflicts with existing data")


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _handle_http_exception(error)
    log.exception("unhandled error (request_id=%s)", g.get("request_id"))
    _rollback()
    return error_response(500, "INTERNAL_ERROR", HTTP_MESSAGES[500])


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(IntegrityError, _handle_integrity_error)
    app.register_error_handler(Exception, _handle_unexpected)
