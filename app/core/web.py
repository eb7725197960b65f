"""What every page needs: the user, the language, elder mode, gettext and the CSRF token;
and the request-scoped dependencies shared by all controllers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypedDict, TypeVar
from urllib.parse import urlsplit

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.authz import Actor
from app.core.edge import check_request
from app.core.errors import DomainError, NotAuthenticated
from app.core.fields import MAX_ID, parse_int
from app.core.i18n import gettext_for
from app.core.proxies import client_of
from app.core.rendering import FACTS_KEY, PAGE_FACTS, currency_of
from app.core.rendering import page_context as page_context
from app.core.rendering import render as render
from app.core.settings import Settings
from app.core.uow import Connection, Database

SESSION_COOKIE = "jl_session"

SMALL_ANSWER = "small_answer"
"""A route's `opt` key: `opt={SMALL_ANSWER: True}` on a route whose answers are always far under
the compression's minimum size (app.asgi), so never compressed. Such a route skips the compression
layer, which otherwise makes a gzip compressor for every request of a client that accepts gzip
(every browser and phone) only to send the answer as it is: 50 – 70 µs of a worker's CPU per
scan, about a seventh of it (docs/scaling.md)."""


def client_address(request: Request) -> str:
    """The client's address, behind the trusted proxies too (app.core.proxies)."""
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state["settings"].trusted_proxies
    if not trusted:  # no proxy named: the headers are not read (every scan asks for the address)
        return peer
    return client_of(peer, request.headers.get("x-forwarded-for"), trusted)


def safe_next(target: str | None) -> str:
    """Where to go after a form: only same-site paths, never another host."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def session_cookie_name(settings: Settings) -> str:
    return "__Host-jl_session" if settings.secure_cookies else SESSION_COOKIE


def database(request: Request) -> Database:
    return request.app.state["database"]  # type: ignore[no-any-return]


ActorFinder = Callable[[str, str], Awaitable["Actor | None"]]
"""`find(token, kind)`: the actor a bearer token ("token") or session cookie ("cookie") stands
for, or None. Accounts knows how; the assembly puts its finder in the app's state as
"find_actor" (app.asgi), so that core names no layer above it."""


def find_actor(request: Request) -> ActorFinder:
    return request.app.state["find_actor"]  # type: ignore[no-any-return]


async def resolve_actor(request: Request, settings: Settings) -> Actor | None:
    """Bearer token for the API, session cookie for pages (and the pages' own API calls).
    One query, or none when this worker has seen the session within the last minute and has
    not been told of a change since (app.accounts.actor_cache, through `find_actor`)."""
    scope: dict[str, Any] = request.scope  # type: ignore[assignment]
    if "jinlin_actor" in scope:
        return scope["jinlin_actor"]  # type: ignore[no-any-return]
    actor = None
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        actor = await find_actor(request)(auth[7:].strip(), "token")
        if actor is None:
            raise NotAuthenticated()
    else:
        token = request.cookies.get(session_cookie_name(settings))
        if token:
            actor = await find_actor(request)(token, "cookie")
            if (
                actor is not None
                and request.url.path.startswith("/api/")
                and request.method not in ("GET", "HEAD", "OPTIONS")
                and request.headers.get("x-jinlin-csrf") != "1"
            ):
                # A cross-site form cannot set this header; the pages' own scripts do.
                raise DomainError("forbidden", 403)
    scope["jinlin_actor"] = actor
    return actor


async def provide_connection(request: Request, actor: Actor) -> AsyncIterator[Connection]:
    """`conn`: the JSON API's unit of work (app.core.uow): a pooled connection on which each
    statement commits by itself, and a use case of several statements opens its transaction
    (`async with conn.transaction()`). It depends on `actor` so that the actor's lookup has given
    its connection back before this one is taken: a request never holds one pooled connection
    while waiting for another, which under load would leave every request waiting."""
    del actor
    async with database(request).connection() as conn:
        yield conn


# The two providers read the settings from the app's state rather than through the `settings`
# dependency: one dependency fewer to resolve on every request that names an actor.


async def provide_optional_actor(request: Request) -> Actor | None:
    return await resolve_actor(request, request.app.state["settings"])


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard for a route with a required query parameter: Litestar reads the query before the
    `actor` dependency, so a request without a valid token was told its parameter was missing
    (422) instead of to log in first (401, API.md). Guards run first; the actor found here is
    the one the handler gets (`resolve_actor` keeps it in the request's scope)."""
    request: Request[Any, Any, Any] = connection  # type: ignore[assignment]
    if await resolve_actor(request, request.app.state["settings"]) is None:
        raise NotAuthenticated()


async def provide_actor(request: Request) -> Actor:
    actor = await resolve_actor(request, request.app.state["settings"])
    if actor is None:
        raise NotAuthenticated()
    return actor


def error_message(request: Request, exc: DomainError) -> str:
    """The sentence to show in a form for a refused action."""
    return exc.sentence(gettext_for(request), currency_of(request))


class RefusalWords(TypedDict):
    error: str | None
    photo_error: str | None


def refusal_words(request: Request, exc: DomainError) -> RefusalWords:
    """Where a refused form with a photo field says why: next to the photo field when the photo
    was refused (`photo_error`), else on top (`error`); the other is None."""
    message = error_message(request, exc)
    if exc.extra.get("field") == "photo":
        return {"error": None, "photo_error": message}
    return {"error": message, "photo_error": None}


async def reopen_form(db_session: AsyncSession, exc: DomainError) -> None:
    """Before a refused form is shown again with its message: the refusal's writes are rolled
    back. Not found and forbidden are not the form's to show; they go on to the error page."""
    if exc.code in ("not_found", "forbidden"):
        raise exc
    await db_session.rollback()


Page = TypeVar("Page")


async def reopen_page(
    request: Request,
    db_session: AsyncSession,
    exc: DomainError,
    page: Callable[..., Awaitable[Page]],
    **context: Any,
) -> Page:
    """A refused form's page again (`page`, usually a `functools.partial` of the handler's page
    function), with the refusal's sentence as `error` and its status as `status_code`, once the
    refusal's writes are rolled back (`reopen_form`: not found and forbidden go on to the error
    page)."""
    await reopen_form(db_session, exc)
    return await page(error=error_message(request, exc), status_code=exc.status_code, **context)


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items() if isinstance(value, str)}


def optional_int(value: str | None) -> int | None:
    """A form field's whole number, or None when it is empty or not one bigint can hold."""
    return parse_int(value, -MAX_ID, MAX_ID)


async def gather_page_facts(request: Request) -> None:
    """Runs the registered page facts (app.core.rendering.PAGE_FACTS) for a page asked for by a
    signed-in person: a GET outside the API, not an htmx fragment. The actor found here is the
    one the handler then gets (it is kept in the request's scope)."""
    scope: dict[str, Any] = request.scope  # type: ignore[assignment]
    if (
        not PAGE_FACTS
        or scope["method"] != "GET"
        or scope["path"].startswith(("/api/", "/static/"))
        or request.headers.get("hx-request")
    ):
        return
    try:
        actor = await resolve_actor(request, request.app.state["settings"])
    except DomainError:
        return  # the handler refuses the request itself
    if actor is None:
        return
    facts: dict[str, Any] = {}
    for hook in PAGE_FACTS:
        facts.update(await hook(request, actor))
    scope[FACTS_KEY] = facts


async def before_request(request: Request) -> None:
    """The app's hook before every handler: the raw request checked (app.core.edge), then what
    every page shows."""
    await check_request(request)
    await gather_page_facts(request)
