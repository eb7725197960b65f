"""The hot lane: the JSON routes that kiosks, counters and scripts hammer (`POST /api/v1/scans`,
`POST /api/v1/orders`), served without Litestar's per-request machinery when the request is
plainly well-formed.

Litestar's routing, middleware, dependency injection and response objects cost a worker about
200 µs of CPU per scan, more than the scan's own work (measured in process, 3,000 scans: 464 –
516 µs through the app, 270 – 295 µs calling the same code directly). A request takes the lane
only if it is a POST with a bearer token and a small JSON body that decodes strictly into the
route's struct, and the token names a live session. Everything else (a cookie, a malformed or
oversized body, an unknown token) goes to Litestar untouched, body replayed, and is answered as
Litestar answers everything. The route's work is the function its Litestar handler calls too,
a refusal it raises is rendered by the same exception handlers (app.core.errors), and the answer
carries the same headers, so the two lanes answer alike (tests/api/test_hot_lane.py).

A route joins the lane by listing its `HotRoute` in its controller module's `hot_routes`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.types import Message, Receive, Scope, Send

from app.core import errors
from app.core.authz import Actor
from app.core.security import secured

# The lane's bodies are a code or an item and a key: anything larger is Litestar's to judge.
BODY_LIMIT = 16 * 1024

_JSON = (b"content-type", b"application/json")


@dataclass(frozen=True)
class HotRoute:
    """A route's body struct and its work: (request, actor, body) -> (status, answer), where
    the answer is anything msgspec encodes (a dict, a Struct)."""

    body: type[msgspec.Struct]
    answer: Callable[[Request[Any, Any, Any], Actor, Any], Awaitable[tuple[int, Any]]]


class JinlinApp(Litestar):
    """Litestar, with the hot lane in front of it for the routes in `hot_routes`."""

    hot_routes: dict[tuple[str, str], HotRoute]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        route = scope["type"] == "http" and self.hot_routes.get((scope["method"], scope["path"]))
        if route:
            await _serve(self, route, scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def _bearer(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bytes(value[:7]).lower() == b"bearer "
    return False


async def _read(receive: Receive) -> tuple[list[Any], bytes | None]:
    """The request's messages so far, and its body if it is whole and within the limit."""
    messages: list[Any] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > BODY_LIMIT:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list[Any], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Any:
        return pending.pop(0) if pending else await receive()

    return replay


def _handler_for(exc: Exception) -> Callable[[Any, Any], Any]:
    for kind in type(exc).__mro__:
        if kind in errors.exception_handlers:
            return errors.exception_handlers[kind]  # type: ignore[no-any-return]
    return errors.internal_error_handler


async def _serve(app: JinlinApp, route: HotRoute, scope: Any, receive: Receive, send: Send) -> None:
    litestar = super(JinlinApp, app).__call__
    if not _bearer(scope):
        await litestar(scope, receive, send)
        return
    messages, body = await _read(receive)
    replay = _replay(messages, receive)
    try:
        data = msgspec.json.decode(body, type=route.body) if body is not None else None
    except msgspec.DecodeError:
        data = None
    if data is None:
        await litestar(scope, replay, send)
        return

    from app.core.web import resolve_actor

    scope["app"] = scope["litestar_app"] = app
    scope.setdefault("state", {})
    request: Request[Any, Any, Any] = Request(scope, replay)
    https = scope.get("scheme") == "https"

    async def send_secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = secured(list(message.get("headers") or ()), https)
        await send(message)

    try:
        actor = await resolve_actor(request, app.state["settings"])
        if actor is None:
            raise errors.NotAuthenticated()
    except errors.DomainError:
        await litestar(scope, replay, send)  # Litestar refuses it as it refuses every such request
        return
    except Exception as exc:  # noqa: BLE001 - the database is down, say: as Litestar renders it
        await _refuse(request, exc, replay, send_secured)
        return
    try:
        status, answer = await route.answer(request, actor, data)
        encoded = msgspec.json.encode(answer)
    except Exception as exc:  # noqa: BLE001 - rendered exactly as Litestar renders it
        await _refuse(request, exc, replay, send_secured)
        return
    headers = [_JSON, (b"content-length", str(len(encoded)).encode())]
    start: Any = {"type": "http.response.start", "status": status, "headers": headers}
    await send_secured(start)
    await send_secured({"type": "http.response.body", "body": encoded, "more_body": False})


async def _refuse(request: Request[Any, Any, Any], exc: Exception, receive: Receive, send: Send) -> None:
    response = _handler_for(exc)(request, exc)
    await response.to_asgi_response(app=None, request=request)(request.scope, receive, send)
