"""The request/response layer every blueprint uses.

``Blueprint.response`` wraps what a view returns in the success envelope
(``{"success", "message", "data"}``, plus ``meta`` for a ``Page``) and documents that
envelope in OpenAPI. ``Blueprint.arguments`` answers bad input with 400
``VALIDATION_ERROR`` / ``BAD_REQUEST`` instead of webargs' 422.
"""

from __future__ import annotations

import json
import re
from functools import wraps

import flask_smorest
import marshmallow as ma
from flask import Response, jsonify, make_response, send_from_directory
from flask.json.provider import DefaultJSONProvider
from flask_smorest.utils import unpack_tuple_response
from swagger_ui_bundle import swagger_ui_path
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, UnicodeConverter

from app.errors import ApiError, BadRequest, ValidationFailed
from app.fields import MAX_ID


class PartialLoad:
    """Mixin for update schemas: every field optional, only the fields sent are loaded."""

    def load(self, data, *, partial=True, **kwargs):
        return super().load(data, partial=partial, **kwargs)


class OrderedRange:
    """Mixin for query schemas with ``from`` and ``to`` (loaded as "from"): from <= to."""

    @ma.validates_schema
    def _ordered_range(self, data, **kwargs):
        if data.get("from") and data.get("to") and data["from"] > data["to"]:
            raise ma.ValidationError("'from' must not be after 'to'.", field_name="from")


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True)
    details = ma.fields.Dict(required=True)


class ErrorEnvelopeSchema(ma.Schema):
    success = ma.fields.Boolean(required=True, metadata={"example": False})
    message = ma.fields.String(required=True)
    error = ma.fields.Nested(ErrorDetailSchema, required=True)
    request_id = ma.fields.String(allow_none=True)


class PageMetaSchema(ma.Schema):
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route is a row id, documented with its bound. One above
    ``MAX_ID`` is a 404 before it can reach the database. (``NotFound``, not werkzeug's
    ``ValidationError``: that would make the matcher answer 405 for the route's other
    methods.)"""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value):
        if int(value) > MAX_ID:
            raise NotFound()
        return super().to_python(value)


class TextConverter(UnicodeConverter):
    """``<name>`` / ``<string:name>``: a segment with a NUL character is a 404."""

    def to_python(self, value):
        if "\x00" in value:
            raise NotFound()
        return value


UNSTORABLE_TEXT = "Text cannot contain NUL characters or unpaired surrogates."
_UNSTORABLE_CHARS = re.compile("[\x00\ud800-\udfff]")


def unstorable(value) -> bool:
    """Text that JSON can carry but no database can store: NUL, or a lone UTF-16 surrogate,
    anywhere in ``value`` (walked with a stack: a body's depth is bounded, but not here)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE_CHARS.search(item) is not None:
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


MAX_JSON_DEPTH = 32
JSON_TOO_DEEP = f"JSON cannot nest arrays and objects more than {MAX_JSON_DEPTH} levels deep."
# JSON strings (their brackets are text), then everything but brackets.
_JSON_STRINGS = {
    str: re.compile(r'"(?:[^"\\]++|\\.)*+"'),
    bytes: re.compile(rb'"(?:[^"\\]++|\\.)*+"'),
}
_NOT_BRACKETS = {str: re.compile(r"[^\[\]{}]++"), bytes: re.compile(rb"[^\[\]{}]++")}
# Objects count as arrays: "{" -> "[", "}" -> "]".
_AS_ARRAYS = {str: str.maketrans("{}", "[]"), bytes: bytes.maketrans(b"{}", b"[]")}
_PAIR = {str: "[]", bytes: b"[]"}


def json_too_deep(document: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``document`` nests arrays/objects deeper than ``limit``, found without
    decoding it (``json.loads`` recurses once per level: ~1,000 is a RecursionError).
    Strings and scalars are dropped, objects become arrays, then each pass drops the
    innermost level of pairs."""
    kind = type(document)
    brackets = _NOT_BRACKETS[kind].sub(kind(), _JSON_STRINGS[kind].sub(kind(), document))
    brackets = brackets.translate(_AS_ARRAYS[kind])
    pair = _PAIR[kind]
    for _ in range(limit):
        shorter = brackets.replace(pair, kind())
        if len(shorter) == len(brackets):
            break
        brackets = shorter
    # Left: pairs deeper than the limit, or brackets never closed (the decoder still
    # recurses into each opening one before it finds the document invalid).
    return pair in brackets or brackets.count(pair[:1]) > limit


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing (``ValueError``, as for invalid JSON) a document nested deeper
    than ``MAX_JSON_DEPTH``: ``request.get_json`` answers 400, or None when silent."""

    def loads(self, s, **kwargs):
        if isinstance(s, bytes | bytearray):
            s = bytes(s).decode(json.detect_encoding(s))
        if json_too_deep(s):
            raise ValueError(JSON_TOO_DEEP)
        return super().loads(s, **kwargs)


def _reject_unstorable(pairs) -> None:
    """400 ``VALIDATION_ERROR`` naming each input whose text cannot be stored."""
    bad = sorted({str(name) for name, value in pairs if unstorable(name) or unstorable(value)})
    if bad:
        raise ValidationFailed(
            details={name.replace("\x00", ""): [UNSTORABLE_TEXT] for name in bad}
        )


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        if req.get_data(cache=True) and not req.is_json:
            raise ApiError(
                "Content-Type must be application/json",
                code="UNSUPPORTED_MEDIA_TYPE",
                status=415,
            )
        if json_too_deep(req.get_data(cache=True)):
            raise BadRequest(
                JSON_TOO_DEEP, code="MALFORMED_JSON", details={"max_depth": MAX_JSON_DEPTH}
            )
        data = super()._raw_load_json(req)
        _reject_unstorable(data.items() if isinstance(data, dict) else [("_schema", data)])
        return data

    def load_querystring(self, req, schema):
        _reject_unstorable(req.args.items(multi=True))
        return super().load_querystring(req, schema)

    def load_form(self, req, schema):
        _reject_unstorable(req.form.items(multi=True))
        return super().load_form(req, schema)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise BadRequest("Request body is not valid JSON", code="MALFORMED_JSON")


_envelopes: dict[tuple, type[ma.Schema]] = {}


def envelope_schema(schema: type[ma.Schema] | ma.Schema | None, *, many: bool, paginated: bool):
    """The documented success envelope around ``schema`` (cached: one class per shape)."""
    schema_cls = schema if schema is None or isinstance(schema, type) else type(schema)
    many = many or paginated or (isinstance(schema, ma.Schema) and schema.many)
    key = (schema_cls, many, paginated)
    if key not in _envelopes:
        if schema_cls is None:
            data_field = ma.fields.Raw(allow_none=True)
            name = "Empty"
        else:
            data_field = ma.fields.Nested(schema_cls, many=many)
            name = schema_cls.__name__.removesuffix("Schema")
        fields: dict[str, ma.fields.Field] = {
            "success": ma.fields.Boolean(required=True, metadata={"example": True}),
            "message": ma.fields.String(allow_none=True),
            "data": data_field,
        }
        suffix = "Page" if paginated else ("List" if many else "")
        if paginated:
            fields["meta"] = ma.fields.Nested(PageMetaSchema, required=True)
        _envelopes[key] = ma.Schema.from_dict(fields, name=f"{name}{suffix}Envelope")
    return _envelopes[key]


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, *, error_status_code: int = 400, **kwargs):
        return super().arguments(schema, error_status_code=error_status_code, **kwargs)

    def errors(self, *answers: tuple[int, str]):
        """Document a view's error answers: the error envelope, and what each status
        means there (``(422, "RETURN_WINDOW_CLOSED, ...")``)."""

        def decorator(func):
            for status, description in answers:
                func = self.alt_response(
                    status, schema=ErrorEnvelopeSchema, description=description
                )(func)
            return func

        return decorator

    def response(
        self,
        status_code: int,
        schema=None,
        *,
        message: str | None = None,
        many: bool = False,
        paginated: bool = False,
        **kwargs,
    ):
        documented = envelope_schema(schema, many=many, paginated=paginated)
        inner = schema if schema is None or isinstance(schema, ma.Schema) else schema(many=many)
        outer = super().response(status_code, documented, **kwargs)

        def decorator(func):
            @wraps(func)
            def wrapper(*args, **kw):
                result, status, headers = unpack_tuple_response(func(*args, **kw))
                if isinstance(result, Response):
                    return result, status, headers
                body = {"success": True, "message": message}
                if paginated:
                    body["data"] = inner.dump(result.items, many=True)
                    body["meta"] = result.meta
                else:
                    body["data"] = result if inner is None else inner.dump(result)
                response = jsonify(body)
                response.status_code = status or status_code
                response.headers.extend(headers or {})
                return response

            return outer(wrapper)

        return decorator

    def fails(self, **cases: str):
        """``errors`` by keyword: ``@blp.fails(_404="NOT_FOUND", ...)``."""
        return self.errors(*((int(status.lstrip("_")), codes) for status, codes in cases.items()))


# The Swagger UI page runs scripts from this server only (its init is static/
# swagger-ui-init.js); Swagger UI sets inline style attributes and data: images.
SWAGGER_UI_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorEnvelopeSchema

    def _register_swagger_ui_rule(self, blueprint):
        """Swagger UI's own files at ``<docs path>/<file>``, from swagger-ui-bundle."""
        super()._register_swagger_ui_rule(blueprint)
        blueprint.add_url_rule(
            self.config["OPENAPI_SWAGGER_UI_PATH"].rstrip("/") + "/<path:filename>",
            endpoint="swagger_ui_file",
            view_func=lambda filename: send_from_directory(swagger_ui_path, filename),
        )

    def _openapi_swagger_ui(self):
        response = make_response(super()._openapi_swagger_ui())
        response.headers["Content-Security-Policy"] = SWAGGER_UI_CSP
        return response

    def _register_error_handlers(self):
        """Errors are handled by ``app.errors``, registered in the factory."""
