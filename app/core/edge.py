"""Where a request's raw parts are checked before any handler sees them, once for every route:
bodies and query strings must be UTF-8 without NUL bytes, JSON must be shallow enough to decode,
and an id in a path must be one PostgreSQL's bigint can hold. What fails is a 4xx in API.md's
shape (or the friendly error page), never a 500 and never stored as "��"."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.enums import RequestEncodingType
from litestar.exceptions import SerializationException
from litestar.handlers import HTTPRouteHandler
from litestar.params import ParameterKwarg

from app.core.errors import DomainError, NotFound
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
    drop_empty_optional_parameters(request)
    for name, value in request.path_params.items():
        if isinstance(value, int) and (name == "id" or name.endswith("_id")) and not 1 <= value <= MAX_ID:
            raise NotFound()


# The optional query parameters of each JSON API route, by the name a caller sends.
_OPTIONAL: dict[int, frozenset[str]] = {}


def _optional_parameters(handler: HTTPRouteHandler) -> frozenset[str]:
    key = id(handler)
    if key not in _OPTIONAL:
        names: set[str] = set()
        for name, field in handler.parsed_fn_signature.parameters.items():
            if field.has_default:
                kwarg = field.kwarg_definition
                alias = kwarg.query if isinstance(kwarg, ParameterKwarg) else None
                names.add(alias or name)
        _OPTIONAL[key] = frozenset(names)
    return _OPTIONAL[key]


def drop_empty_optional_parameters(request: Request[Any, Any, Any]) -> None:
    """On the JSON API, an optional query parameter sent empty (`?community_id=&limit=`, as
    API.md writes its templates and as an HTML form sends an empty field) is the same as one left
    out: it takes its default. A required one sent empty is still refused, with its sentence."""
    raw: bytes = request.scope.get("query_string", b"")
    if not (raw.endswith(b"=") or b"=&" in raw) or not request.scope["path"].startswith("/api/"):
        return
    optional = _optional_parameters(request.route_handler)
    pairs = raw.split(b"&")
    kept = [pair for pair in pairs if not (pair.endswith(b"=") and unquote(pair[:-1].decode()) in optional)]
    if len(kept) != len(pairs):
        request.scope["query_string"] = b"&".join(kept)
