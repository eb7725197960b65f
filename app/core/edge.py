"""Where a request's raw parts are checked before any handler sees them, once for every route:
bodies and query strings must be UTF-8 without NUL bytes, JSON must be shallow enough to decode,
and an id in a path must be one PostgreSQL's bigint can hold. What fails is a 4xx in API.md's
shape (or the friendly error page), never a 500 and never stored as "��"."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import Request
from litestar._openapi.schema_generation.plugins import StructSchemaPlugin  # not exported
from litestar.datastructures import FormMultiDict
from litestar.enums import RequestEncodingType
from litestar.exceptions import SerializationException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Schema

from app.core.errors import MESSAGES, DomainError, NotFound
from app.core.fields import MAX_ID
from app.core.i18n import lazy

UNREADABLE = lazy("The request contains characters that cannot be read.")


def unreadable() -> DomainError:
    return DomainError("validation_error", 400, UNREADABLE)


def check_urlencoded(raw: bytes) -> None:
    """Each name and value of a query string or form body, once %-decoded, is UTF-8 with no NUL.
    (The parser behind request.form() and query parameters replaces what is not UTF-8 with
    U+FFFD, which would then be stored.)"""
    if not raw:
        return
    for pair in raw.split(b"&"):
        if b"%" not in pair and b"+" not in pair and pair.isascii():
            if b"\x00" in pair:
                raise unreadable()
            continue
        for part in pair.split(b"=", 1):
            data = unquote_to_bytes(part.replace(b"+", b" "))
            if b"\x00" in data:
                raise unreadable()
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise unreadable() from None


class EdgeRequest(Request[Any, Any, Any]):
    """The app's request class (the CSRF middleware reads forms through it too)."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except (UnicodeDecodeError, RecursionError) as exc:
            # msgspec lets these through instead of its DecodeError: the body is not UTF-8, or
            # is nested deeper than it decodes.
            raise SerializationException(str(exc)[:200]) from None

    async def form(self) -> FormMultiDict:
        content_type, _ = self.content_type
        if content_type == RequestEncodingType.URL_ENCODED:
            check_urlencoded(await self.body())
        try:
            form = await super().form()
        except UnicodeDecodeError:
            raise unreadable() from None  # a multipart text field that is not UTF-8
        for _name, value in form.multi_items():
            if isinstance(value, str) and "\x00" in value:
                raise unreadable()
        return form


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Runs before every handler, ahead of its parameters and dependencies."""
    check_urlencoded(request.scope.get("query_string", b""))
    for name, value in request.path_params.items():
        if isinstance(value, int) and (name == "id" or name.endswith("_id")) and not 1 <= value <= MAX_ID:
            raise NotFound()
    await check_json_body(request)


# ---------------------------------------------------------------- JSON bodies, as the schema says

# Litestar converts a decoded body to the route's struct leniently: "10" and 10.0 for an integer,
# "false" and 0 for a boolean, a Unix timestamp for a date-time, while the OpenAPI schema says
# integer, boolean and an RFC 3339 string; and it drops fields the struct does not have, so that a
# misspelt optional field ("max_point") is lost without a word. The JSON API takes what its schema
# says and nothing else: each body is also converted strictly here, and a field the schema does not
# name is refused, before the handler runs.
# A route's body type and its shape, worked out once per route: msgspec.inspect.type_info takes
# tens of microseconds, far more than checking a body against what it found.
_BODIES: dict[int, tuple[Any, Any] | None] = {}
_AT = re.compile(r" - at `\$\.?(.*)`$")


def _shape(info: Any) -> Any:
    """Which keys a value of type `info` (msgspec.inspect) may hold: a dict of each field's name to
    its own shape for a struct, a one-item tuple of the items' shape for a list, None for a
    value that holds no keys. An optional struct or list is the struct's or the list's shape."""
    while isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    if isinstance(info, msgspec.inspect.UnionType):
        shapes = [_shape(member) for member in info.types]
        return next((shape for shape in shapes if shape is not None), None)
    if isinstance(info, msgspec.inspect.StructType):
        return {field.encode_name: _shape(field.type) for field in info.fields}
    if isinstance(info, msgspec.inspect.ListType | msgspec.inspect.SetType):
        item = _shape(info.item_type)
        return None if item is None else (item,)
    return None


def _body(handler: HTTPRouteHandler) -> tuple[Any, Any] | None:
    """The type of a JSON API route's body (its `data` parameter) and its shape, or None."""
    key = id(handler)
    if key not in _BODIES:
        field = handler.parsed_fn_signature.parameters.get("data")
        api = any(path.startswith("/api/") for path in handler.paths)
        target = field.annotation if field is not None and api else None
        _BODIES[key] = None if target is None else (target, _shape(msgspec.inspect.type_info(target)))
    return _BODIES[key]


def _refused(message: str, key: str) -> ValidationException:
    return ValidationException(extra=[{"message": message, "key": key or "data", "source": "body"}])


def _unknown_field(value: Any, shape: Any, at: str = "") -> str | None:
    """The path of the first key in `value` that its shape does not name."""
    if isinstance(shape, dict) and isinstance(value, dict):
        for name, item in value.items():
            where = f"{at}.{name}" if at else str(name)
            if name not in shape:
                return where
            if shape[name] is not None and (found := _unknown_field(item, shape[name], where)):
                return found
    elif isinstance(shape, tuple) and isinstance(value, list):
        for index, item in enumerate(value):
            if found := _unknown_field(item, shape[0], f"{at}[{index}]"):
                return found
    return None


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """A JSON API route's body: sent as JSON, of exactly the types its schema states, with no
    field it does not name. A body that cannot be decoded, or none at all, is left to Litestar,
    which refuses it (400, 422) or hands the route its default."""
    body = _body(request.route_handler)
    if body is None or not await request.body():
        return
    media_type, _ = request.content_type
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise DomainError("validation_error", 415, MESSAGES["not_json"])
    try:
        value = await request.json()
    except SerializationException:
        return
    target, shape = body
    try:
        msgspec.convert(value, target, strict=True)
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = _AT.search(text)
        raise _refused(text[: match.start()] if match else text, match[1] if match else "") from None
    unknown = _unknown_field(value, shape)
    if unknown:
        raise _refused(f"Unknown field `{unknown.rsplit('.', 1)[-1]}`", unknown)


class ClosedStructs(StructSchemaPlugin):
    """The OpenAPI schema of every msgspec struct says `additionalProperties: false`, as
    `check_json_body` holds a request body to (a response struct has no other field either),
    unless the struct says it is open (`open_schema`: the error shape)."""

    def to_openapi_schema(self, field_definition: Any, schema_creator: Any) -> Schema:
        schema: Schema = super().to_openapi_schema(field_definition, schema_creator)
        if not getattr(field_definition.type_, "open_schema", False):
            schema.additional_properties = False
        return schema
