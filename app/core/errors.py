"""One error family for expected refusals, rendered as API.md's JSON shape or a friendly page."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

import asyncpg
import msgspec
import psycopg
import sqlalchemy.exc
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from app.core import codes, money
from app.core.i18n import gettext_for, lazy
from app.core.rendering import currency_of, page_context
from app.core.security import HEADERS
from app.core.uow import PoolExhausted

# Default sentences per code; a raise may pass a more specific one.
MESSAGES: dict[str, str] = {
    "invalid_credentials": lazy("The phone number or password is wrong."),
    "rate_limited": lazy("Too many failed attempts. Please wait a while and try again."),
    "forbidden": lazy("You are not allowed to do this."),
    "not_found": lazy("We could not find what you asked for."),
    "validation_error": lazy("Some of the information is missing or not valid."),
    "insufficient_points": lazy("There are not enough points for this."),
    "out_of_stock": lazy("This item is out of stock."),
    "limit_reached": lazy("You have reached the limit for this item."),
    "already_done": lazy("This has already been done."),
    "code_expired": lazy("This code has expired. Please show a fresh code."),
    "code_invalid": lazy("This code is not valid."),
    "not_signed_up": lazy("You have not signed up for this event."),
    "event_full": lazy("This event is full."),
    "conflict": lazy("This request conflicts with an earlier one."),
    "payments_off": lazy("Online payments are not set up here."),
    "not_authenticated": lazy("Please log in first."),
    "csrf_failed": lazy("The form has expired. Please go back, reload the page and try again."),
    "internal_error": lazy("Something went wrong on our side. Nothing was changed; please try again."),
    "unavailable": lazy("The service is briefly unavailable. Please try again in a moment."),
    "too_large": lazy("The request is too large."),
}


class ErrorBody(msgspec.Struct):
    """API.md's error shape, as the OpenAPI schema shows it."""

    status_code: int
    code: str
    detail: str
    # Which fields failed (422 from the request schemas); other keys may name a field or a limit.
    errors: list[dict[str, Any]] | None = None


ERROR_DESCRIPTIONS = {
    400: "The request could not be read (malformed JSON, text that is not UTF-8 or holds NUL): "
    "`validation_error`",
    401: "No valid bearer token (`not_authenticated`), or a wrong phone or password (`invalid_credentials`)",
    403: "The caller may not do this: `forbidden`",
    404: "Nothing with that id is visible to the caller: `not_found`",
    409: "Refused by a rule (`conflict`, `already_done`, `insufficient_points`, `out_of_stock`, "
    "`limit_reached`, `event_full`, ...)",
    422: "A value is missing or out of its range (`validation_error`), or a code is refused "
    "(`code_invalid`, `code_expired`, `not_signed_up`)",
    413: "The body is larger than the server takes: `validation_error`",
    429: "Too many failed attempts: `rate_limited`; Retry-After says how many seconds at most to wait",
    503: "The database is away for a moment (a failover, a restart): `unavailable`; send the same "
    "request again (with the same idempotency key) after Retry-After seconds",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The `responses=` mapping of a JSON route: each status with API.md's error shape."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=ERROR_DESCRIPTIONS[status], generate_examples=False
        )
        for status in sorted(statuses)
    }


def document_errors(handler: HTTPRouteHandler) -> HTTPRouteHandler:
    """Adds to an `/api/v1` route's OpenAPI entry the error answers it can give, read from its
    signature: every route may get 400 (a request that cannot be read) and 503 (the database
    away for a moment); a route with a body or parameters 422, one with a body 413; a
    route that needs a login 401 and 403, and 404 when it names something by id (in its path or
    body); one that changes something 409; the login and registration routes 401 and 429. What
    the route declares itself wins."""
    params = set(handler.parsed_fn_signature.parameters)
    paths = list(handler.paths)
    statuses = {400, 503}
    if params - {"actor", "request", "db_session", "settings", "tx"} or any("{" in p for p in paths):
        statuses.add(422)
    if params & {"actor", "tx"}:
        statuses |= {401, 403}
        if "data" in params or any("{" in p for p in paths):
            statuses.add(404)
    if "data" in params:
        statuses.add(413)
    if any(p.startswith("/api/v1/auth/") for p in paths):
        statuses |= {401, 429}
    if handler.http_methods - {"GET", "HEAD", "OPTIONS"}:
        statuses.add(409)
    handler.responses = {**error_responses(*statuses), **_repeat_answer(handler), **(handler.responses or {})}
    return handler


def _repeat_answer(handler: HTTPRouteHandler) -> dict[int, ResponseSpec]:
    """A creating route whose body carries an `idempotency_key` and which answers `Response[X]`
    (201 when it made something, 200 when the key was sent before: API.md's awards, orders and
    vouchers) documents the 200 too, with the same body."""
    data = handler.parsed_fn_signature.parameters.get("data")
    returned = handler.parsed_fn_signature.return_type
    keyed = data is not None and "idempotency_key" in getattr(data.annotation, "__struct_fields__", ())
    if (
        handler.status_code != 201
        or not keyed
        or not returned.is_subclass_of(Response)
        or not returned.inner_types
    ):
        return {}
    description = (
        "The idempotency key was sent before with the same body: the first answer, nothing made again"
    )
    spec = ResponseSpec(data_container=returned.inner_types[0].annotation, description=description)
    return {200: spec}


class DomainError(Exception):
    """An expected refusal: a stable machine code, an HTTP status and a human sentence."""

    def __init__(
        self,
        code: str,
        status_code: int = 400,
        detail: str | None = None,
        *,
        words: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        self.code = code
        self.status_code = status_code
        self.detail = detail
        # Values for the sentence's %(name)s placeholders, filled in after it is translated.
        self.words = words or {}
        self.extra = extra
        # Seconds the client is told to wait (Retry-After), where the refusal knows its lock.
        self.retry_after: int | None = None
        super().__init__(detail or code)

    def sentence(self, gettext: Any, currency: str = money.YUAN) -> str:
        """The refusal in the reader's language, its amounts named in `currency` (the payments'
        currency where it is shown: `currency_of` a request)."""
        if self.detail:
            return str(gettext(self.detail, **money.fill(self.words, currency, gettext)))
        return str(gettext(MESSAGES.get(self.code, MESSAGES["validation_error"])))


WAIT_A_MINUTE = lazy("Too many failed attempts. Please wait a minute and try again.")
WAIT_MINUTES = lazy("Too many failed attempts. Please wait %(minutes)s minutes and try again.")


class RateLimited(DomainError):
    """A 429 of a lock that lasts `wait` at most (a login's window, a scanner's typed digits'):
    its Retry-After and the minutes its sentence names are the same number."""

    def __init__(self, wait: timedelta) -> None:
        seconds = max(1, math.ceil(wait.total_seconds()))
        minutes = math.ceil(seconds / 60)
        sentence = WAIT_A_MINUTE if minutes == 1 else WAIT_MINUTES
        super().__init__("rate_limited", 429, sentence, words={"minutes": minutes})
        self.retry_after = seconds


class NotFound(DomainError):
    def __init__(self, detail: str | None = None) -> None:
        super().__init__("not_found", 404, detail)


class Forbidden(DomainError):
    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__("forbidden", 403, detail, **extra)


class Invalid(DomainError):
    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__("validation_error", 422, detail, **extra)


class NotAuthenticated(DomainError):
    def __init__(self) -> None:
        super().__init__("not_authenticated", 401)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/stripe/", "/healthz", "/readyz")):  # Stripe and monitors read JSON
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _render(
    request: Request,
    status: int,
    code: str,
    detail: str,
    extra: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> Response:
    # Errors raised before a route matched (unknown path, wrong method) never pass through the
    # app's middleware, so the security headers are set here too.
    headers = {**(headers or {}), **HEADERS}
    if status == 429:
        headers.setdefault("retry-after", str(_rate_limit_seconds(request)))
    if _wants_json(request):
        if status == 401:
            headers.setdefault("www-authenticate", "Bearer")  # RFC 6750: the scheme the API takes
        return Response(
            {"status_code": status, "code": code, "detail": detail, **extra},
            status_code=status,
            headers=headers,
        )
    if code == "not_authenticated":
        return Redirect(f"/login?next={request.url.path}", headers=headers)
    template = "_error_fragment.html" if request.headers.get("hx-request") else "error.html"
    return Template(
        template,
        context={**page_context(request), "code": code, "detail": detail, "status": status},
        status_code=status,
        headers=headers,
    )


def _rate_limit_seconds(request: Request) -> int:
    """Retry-After of a 429: the longest any lock lasts (a phone's or an address's login lock,
    the settings' `login_window_minutes`; a scanner's typed digits), so that a client that waits
    that long is let in again."""
    settings = getattr(request.app.state, "settings", None)
    login = 60 * int(getattr(settings, "login_window_minutes", 0))
    return max(login, int(codes.TYPED_DIGITS_WINDOW.total_seconds()))


def domain_error_handler(request: Request, exc: DomainError) -> Response:
    headers = {"retry-after": str(exc.retry_after)} if exc.retry_after else None
    return _render(
        request,
        exc.status_code,
        exc.code,
        exc.sentence(gettext_for(request), currency_of(request)),
        exc.extra,
        headers,
    )


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    _ = gettext_for(request)
    status = exc.status_code
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException):
        code, status = "validation_error", 422
        if exc.extra:
            extra["errors"] = exc.extra
        elif left_out := _LEFT_OUT.match(str(exc.detail)):
            # Litestar names a required parameter left out only in its message.
            source, name = left_out[1], left_out[2]
            extra["errors"] = [
                {"message": f"Missing required {source} parameter", "key": name, "source": source}
            ]
    elif isinstance(exc, NotAuthorizedException):
        code = "not_authenticated"
    elif isinstance(exc, PermissionDeniedException):
        code = "csrf_failed" if "CSRF" in str(exc.detail) else "forbidden"
    elif isinstance(exc, NotFoundException):
        code = "not_found"
    elif status == 429:
        code = "rate_limited"
    elif status == 405:
        code = "method_not_allowed"
    elif status == 413:
        code = "validation_error"
    else:
        code = "validation_error" if status < 500 else "internal_error"
    detail = _(MESSAGES.get(code, MESSAGES["validation_error"]))
    if status == 429:
        limited = RateLimited(timedelta(seconds=_rate_limit_seconds(request)))
        detail = limited.sentence(_)
    if _wants_json(request) and (fields := _named_fields(extra.get("errors"))):
        detail = _("Some of the information is missing or not valid: %(fields)s.", fields=", ".join(fields))
    if status == 413:
        too_large = MESSAGES["too_large"]
        detail = _(too_large)
    headers: dict[str, str] = {}
    if code == "method_not_allowed":
        detail = _("This action is not available here.")
        # RFC 9110: a 405 names the methods the resource has.
        allow = (exc.headers or {}).get("allow") or (exc.headers or {}).get("Allow")
        if allow:
            headers["allow"] = allow
    return _render(request, status, code, detail, extra, headers)


_MISSING = re.compile(r"missing required field `([^`]+)`")
_LEFT_OUT = re.compile(r"Missing required (query|header|cookie|path) parameter '([^']+)'")


def _named_fields(errors: Any) -> list[str]:
    """The fields a request's validation refused, by the names the caller sent them under (a
    field left out is reported on the body as a whole: its name is in the message)."""
    names: list[str] = []
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict):
            continue
        missing = _MISSING.search(str(error.get("message", "")))
        name = missing[1] if missing else str(error.get("key") or "")
        if name and name != "data" and name not in names:
            names.append(name)
    return names


def _sqlstate(exc: BaseException) -> str:
    """The PostgreSQL error class of an exception, through SQLAlchemy's and asyncpg's wrappers."""
    for candidate in (exc, getattr(exc, "orig", None), getattr(exc, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str):
            return state
    return ""


# PostgreSQL's answers of a server going away, not yet there or full: connection exceptions
# (class 08), a server shutting down or crashed (57P01, 57P02), starting (57P03), a write on a
# server that is read-only now (25006: a primary being demoted during a failover), and no
# connection to spare (53300: "sorry, too many clients already", or a database's or role's
# connection limit reached).
UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "25006", "53300"})
# Seconds a client is told to wait before sending the request again (Retry-After).
RETRY_AFTER = "1"


def _unavailable_state(state: str) -> bool:
    return state.startswith("08") or state in UNAVAILABLE_STATES


def database_unavailable(exc: BaseException) -> bool:
    """The request failed because its database connection was lost or refused (the primary died,
    a failover, a restart, every connection taken), not because of anything in the request:
    sending it again (with the same idempotency key) is right once the database is back or has a
    connection free. asyncpg's own protocol errors (`InternalClientError`: a connection left
    mid-operation when its server went away, then asked to commit or roll back) count too, and so
    does a pool with no connection free in time (asyncpg's, `uow.PoolExhausted`, and the
    sessions', SQLAlchemy's `TimeoutError`)."""
    if _unavailable_state(_sqlstate(exc)):
        return True
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo and len(seen) < 10:  # SQLAlchemy's wrapper, asyncpg's error, their causes
        error = todo.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if getattr(error, "connection_invalidated", False):
            return True
        if isinstance(
            error,
            asyncpg.ConnectionDoesNotExistError
            | asyncpg.InternalClientError
            | ConnectionError
            | PoolExhausted
            | sqlalchemy.exc.TimeoutError,
        ):
            return True
        if _unavailable_state(_sqlstate(error)):
            return True
        if isinstance(error, psycopg.OperationalError) and error.sqlstate is None:
            # psycopg's (the migrations') failure to connect: refused, timed out, no such host.
            # An error the server sent has its sqlstate.
            return True
        todo.extend(
            e for e in (getattr(error, "orig", None), error.__cause__, error.__context__) if e is not None
        )
    return False


def internal_error_handler(request: Request, exc: Exception) -> Response:
    if database_unavailable(exc):
        request.logger.warning("database unavailable: %r", exc)
        _ = gettext_for(request)
        message = MESSAGES["unavailable"]
        headers = {"retry-after": RETRY_AFTER}
        return _render(request, HTTP_503_SERVICE_UNAVAILABLE, "unavailable", _(message), {}, headers)
    if _sqlstate(exc).startswith("22"):
        # PostgreSQL's "data exception" class (a value out of range, a string too long, bad
        # encoding): a value the edge should have refused. Still the client's input, so a 422,
        # and logged so that the missing check is found and added to the schemas.
        request.logger.warning("data exception reached the database: %s", exc)
        message = MESSAGES["validation_error"]
        return _render(request, 422, "validation_error", gettext_for(request)(message), {})
    request.logger.exception("unhandled error", exc_info=exc)
    _ = gettext_for(request)
    message = MESSAGES["internal_error"]
    return _render(request, HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", _(message), {})


exception_handlers: dict[Any, Any] = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
