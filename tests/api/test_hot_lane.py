"""The hot lane (app.core.hotlane) answers as Litestar does: the same requests, sent once through
the app and once straight to Litestar (past the lane), get the same status, body and headers;
well-formed bearer requests really take the lane, and the rest fall through to Litestar with
their bodies intact."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from app.core.hotlane import BODY_LIMIT, HotRoute
from app.core.security import HEADERS
from tests.events.conftest import kiosk_code, make_event

COMPARED = ("content-type", *HEADERS)


class Lanes:
    """Requests through the app's test client, with the lane in place or (`plain`) with the
    app's hot routes taken away for the request, so that Litestar serves it."""

    def __init__(self, app: Any, client: Any) -> None:
        self.app = app
        self.client = client

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, **kwargs)  # type: ignore[no-any-return]

    async def plain(self, path: str, **kwargs: Any) -> httpx.Response:
        saved, self.app.hot_routes = self.app.hot_routes, {}
        try:
            return await self.client.post(path, **kwargs)  # type: ignore[no-any-return]
        finally:
            self.app.hot_routes = saved


@pytest.fixture
def lanes(app: Any, client: Any) -> Lanes:
    return Lanes(app, client)


@pytest.fixture
def taken(app: Any) -> Any:
    """Counts the requests the lane served, per route."""
    counts: dict[str, int] = {}
    saved = dict(app.hot_routes)
    for (method, path), route in saved.items():

        async def counted(
            request: Any, actor: Any, data: Any, _route: HotRoute = route, _path: str = path
        ) -> Any:
            counts[_path] = counts.get(_path, 0) + 1
            return await _route.answer(request, actor, data)

        app.hot_routes[(method, path)] = HotRoute(route.body, counted)
    yield counts
    app.hot_routes.clear()
    app.hot_routes.update(saved)


def _seen(response: httpx.Response) -> tuple[int, Any, dict[str, str | None]]:
    try:
        body: Any = response.json()
    except json.JSONDecodeError:
        body = response.text
    return response.status_code, body, {name: response.headers.get(name) for name in COMPARED}


async def test_refusals_and_malformed_requests_are_answered_alike(site: Any, lanes: Any) -> None:
    tenant, admin, alice, _ = site
    event_id = await make_event(lanes.client, admin, tenant.community_id)
    checkout = await kiosk_code(lanes.client, admin, event_id, "checkout")
    bearer = alice.headers
    english = {**bearer, "Accept-Language": "en"}
    cases: list[tuple[str, dict[str, str], Any]] = [
        ("/api/v1/scans", bearer, {"code": "JE1-NOT-A-CODE"}),
        ("/api/v1/scans", english, {"code": "JE1-NOT-A-CODE"}),
        ("/api/v1/scans", bearer, {"code": checkout}),  # not checked in
        ("/api/v1/scans", english, {"code": checkout, "action": "dance"}),
        ("/api/v1/scans", bearer, {"code": 123}),
        ("/api/v1/scans", bearer, {"kode": "x"}),
        ("/api/v1/scans", bearer, b'{"code": '),
        ("/api/v1/scans", bearer, {"code": "JE1-X", "idempotency_key": "k" * (BODY_LIMIT + 10)}),
        ("/api/v1/scans", {"Authorization": "Bearer not-a-token"}, {"code": "JE1-X"}),
        ("/api/v1/scans", {}, {"code": "JE1-X"}),
        ("/api/v1/orders", bearer, {"item_id": 999_999_999, "quantity": 1, "idempotency_key": "k1"}),
        ("/api/v1/orders", english, {"item_id": 999_999_999, "quantity": 0, "idempotency_key": "k2"}),
        ("/api/v1/orders", bearer, {"item_id": "one"}),
    ]
    for path, headers, body in cases:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {**headers, "Content-Type": "application/json"}
        via_app = await lanes.post(path, content=content, headers=sent)
        via_litestar = await lanes.plain(path, content=content, headers=sent)
        assert _seen(via_app) == _seen(via_litestar), (path, headers, str(body)[:80])
        assert via_app.status_code >= 400, (path, via_app.text)


async def test_a_well_formed_scan_takes_the_lane_and_answers_as_litestar_would(
    site: Any, lanes: Any, taken: dict[str, int]
) -> None:
    tenant, admin, alice, bob = site
    event_id = await make_event(lanes.client, admin, tenant.community_id)
    checkin = await kiosk_code(lanes.client, admin, event_id)
    a = await lanes.post("/api/v1/scans", json={"code": checkin}, headers=alice.headers)
    assert taken == {"/api/v1/scans": 1}
    b = await lanes.plain("/api/v1/scans", json={"code": checkin}, headers=bob.headers)
    assert taken == {"/api/v1/scans": 1}  # Litestar's handler calls the same work, uncounted
    assert a.status_code == b.status_code == 200, (a.text, b.text)
    assert a.json()["result"] == b.json()["result"] == "checked_in"
    assert a.json().keys() == b.json().keys()
    assert _seen(a)[2] == _seen(b)[2]
    # A repeat is refused alike on both lanes (and the lane took it too).
    again_a = await lanes.post("/api/v1/scans", json={"code": checkin}, headers=alice.headers)
    again_b = await lanes.plain("/api/v1/scans", json={"code": checkin}, headers=alice.headers)
    assert again_a.status_code == again_b.status_code == 409
    assert _seen(again_a) == _seen(again_b)
    assert taken == {"/api/v1/scans": 2}


async def test_a_cookie_session_or_a_malformed_body_goes_to_litestar(
    site: Any, lanes: Any, taken: dict[str, int]
) -> None:
    _, _, alice, _ = site
    malformed = await lanes.post(
        "/api/v1/scans", content=b'{"code": 5}', headers={**alice.headers, "Content-Type": "application/json"}
    )
    assert malformed.status_code in (400, 422)
    assert taken == {}  # Litestar refused it before the route's work
    unknown = await lanes.post("/api/v1/scans", json={"code": "x"}, headers={"Authorization": "Bearer x"})
    assert unknown.status_code == 401
    assert taken == {}


async def test_a_database_failure_is_answered_as_litestar_answers_it(
    site: Any, lanes: Lanes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session lookup failing (the database is unreachable) gives the same 500 on both lanes."""
    _, _, alice, _ = site

    async def unreachable(*_: Any) -> None:
        raise ConnectionRefusedError("the database is down")

    monkeypatch.setattr("app.core.web.resolve_actor", unreachable)
    via_app = await lanes.post("/api/v1/scans", json={"code": "JE1-X"}, headers=alice.headers)
    via_litestar = await lanes.plain("/api/v1/scans", json={"code": "JE1-X"}, headers=alice.headers)
    assert via_app.status_code == 500
    assert via_app.json()["code"] == "internal_error"
    assert _seen(via_app) == _seen(via_litestar)
