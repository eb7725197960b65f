"""Bad input is a clear 4xx in API.md's error shape, with the security headers, and loses nothing:
whatever a client sends, the server never answers 500 and the database never sees it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from app.core import clock
from app.core.security import HEADERS
from tests.api.helpers import csrf_token, page_login
from tests.conftest import count, login
from tests.events.conftest import event_body, kiosk_code, make_event

TOO_BIG = 2**63  # one past PostgreSQL's bigint


def api_routes(app: Any, method: str, with_body: bool = False) -> list[str]:
    return sorted(
        {
            route.path
            for route in app.routes
            for handler in getattr(route, "route_handlers", [])
            if route.path.startswith("/api/v1/")
            and method in handler.http_methods
            and (not with_body or "data" in handler.parsed_fn_signature.parameters)
        }
    )


def fill(path: str, community_id: int, other: int | str = 1) -> str:
    return re.sub(r"\{(\w+):int\}", lambda m: str(community_id if m[1] == "community_id" else other), path)


def assert_refused(response: Any, statuses: tuple[int, ...] = (400, 404, 409, 422)) -> dict:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    body = response.json()
    assert body["status_code"] == response.status_code and body["code"] and body["detail"], body
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, name
    return body


async def test_invalid_utf8_in_a_json_body_is_refused_on_every_json_route(app, client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    paths = api_routes(app, "POST", with_body=True)
    assert "/api/v1/auth/token" in paths and "/api/v1/scans" in paths and "/api/v1/orders" in paths
    for path in paths:
        for headers in (admin.headers, {}):
            response = await client.post(
                fill(path, tenant.community_id),
                content=b'{"phone": "\xff\xfe", "code": "\xc3\x28", "title": "\xed\xa0\x80"}',
                headers={**headers, "Content-Type": "application/json"},
            )
            if not headers and response.status_code == 401:
                continue  # a route that needs a login may say so first
            body = assert_refused(response, (400,))
            assert body["code"] == "validation_error", (path, body)


async def test_json_nested_a_thousand_levels_is_refused_on_every_json_route(app, client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    deep = b'{"code": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    for path in api_routes(app, "POST", with_body=True):
        for headers in (admin.headers, {"Authorization": "Bearer anything"}):
            response = await client.post(
                fill(path, tenant.community_id),
                content=deep,
                headers={**headers, "Content-Type": "application/json"},
            )
            if response.status_code == 401:
                continue
            body = assert_refused(response, (400,))
            assert body["code"] == "validation_error", (path, body)


async def test_a_nul_byte_in_any_json_string_is_refused_and_nothing_is_stored(client, factory, db):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await login(client, await factory.person(tenant))
    cid = tenant.community_id
    cases: list[tuple[str, dict[str, Any], Any]] = [
        ("/api/v1/auth/token", {"phone": "139\x0000000000", "password": "x"}, None),
        ("/api/v1/auth/token", {"phone": resident.phone, "password": resident.password + "\x00"}, None),
        (
            "/api/v1/auth/register",
            {"phone": "13912345678", "password": "long-enough-1", "display_name": "a\x00", "join_code": "X"},
            None,
        ),
        (f"/api/v1/communities/{cid}/residents", {"display_name": "郑\x00美玉"}, admin),
        (
            f"/api/v1/communities/{cid}/awards",
            {"user_id": resident.user_id, "points": 5, "reason": "\x00", "idempotency_key": "k1"},
            admin,
        ),
        (
            f"/api/v1/communities/{cid}/awards",
            {"user_id": resident.user_id, "points": 5, "reason": "ok", "idempotency_key": "k\x00"},
            admin,
        ),
        (f"/api/v1/communities/{cid}/events", event_body(title="六清\x00"), admin),
        (f"/api/v1/communities/{cid}/events", event_body(place="\x00"), admin),
        (f"/api/v1/communities/{cid}/items", {"name": "米\x00", "points_price": 5, "stock": 1}, admin),
        ("/api/v1/scans", {"code": "JE1-1-I-1-\x00"}, resident),
        ("/api/v1/scans", {"code": "JC1-AAAA", "idempotency_key": "\x00"}, resident),
        ("/api/v1/orders", {"item_id": 1, "quantity": 1, "idempotency_key": "\x00"}, resident),
    ]
    before = await count(db, "SELECT count(*) FROM ledger_transfers")
    for path, body, person in cases:
        response = await client.post(path, json=body, headers=person.headers if person else {})
        answer = assert_refused(response, (401, 404, 422))
        assert answer["code"] in ("validation_error", "invalid_credentials"), (path, answer)
    assert await count(db, "SELECT count(*) FROM ledger_transfers") == before
    assert await count(db, "SELECT count(*) FROM events WHERE community_id = :c", c=cid) == 0


async def test_ids_past_bigint_in_bodies_are_refused(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await login(client, await factory.person(tenant))
    cid = tenant.community_id
    cases = [
        (
            f"/api/v1/communities/{cid}/awards",
            {"user_id": TOO_BIG, "points": 5, "reason": "r", "idempotency_key": "k"},
            admin,
        ),
        (f"/api/v1/communities/{cid}/residents", {"display_name": "x", "compound_id": TOO_BIG}, admin),
        (f"/api/v1/communities/{cid}/events", event_body(organiser_ids=[TOO_BIG]), admin),
        ("/api/v1/orders", {"item_id": TOO_BIG, "quantity": 1, "idempotency_key": "k"}, resident),
        ("/api/v1/orders", {"item_id": 1, "quantity": TOO_BIG, "idempotency_key": "k"}, resident),
        ("/api/v1/orders", {"item_id": 1, "quantity": 1, "idempotency_key": "k", "user_id": -1}, resident),
        ("/api/v1/scans", {"code": "JC1-AAAA", "event_id": TOO_BIG, "action": "checkin"}, resident),
    ]
    for path, body, person in cases:
        answer = assert_refused(await client.post(path, json=body, headers=person.headers), (422,))
        assert answer["code"] == "validation_error", (path, answer)


async def test_ids_past_bigint_in_paths_are_not_found(app, client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    for method in ("GET", "POST"):
        for path in api_routes(app, method):
            if "{" not in path:
                continue
            for value in (TOO_BIG, 0):
                for target in (fill(path, TOO_BIG, 1), fill(path, tenant.community_id, value)):
                    if target == fill(path, tenant.community_id, 1):
                        continue
                    response = await client.request(method, target, json={}, headers=admin.headers)
                    answer = assert_refused(response, (404,))
                    assert answer["code"] == "not_found", (target, answer)
    page = await client.get(f"/events/{TOO_BIG}", headers=admin.headers)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]


async def test_cursors_and_query_ids_that_cannot_be_ids_are_refused(client, factory):
    tenant = await factory.tenant()
    resident = await login(client, await factory.person(tenant))
    for params in (
        {"cursor": str(TOO_BIG)},
        {"cursor": "²"},
        {"cursor": "-1"},
        {"cursor": "\x00"},
        {"community_id": str(TOO_BIG)},
        {"limit": str(TOO_BIG)},
    ):
        response = await client.get("/api/v1/me/transfers", params=params, headers=resident.headers)
        # (a community the caller is not in is forbidden, whatever its number)
        assert_refused(response, (400, 403, 422))
    wallet = await client.get("/api/v1/me/wallet", params={"community_id": TOO_BIG}, headers=resident.headers)
    assert_refused(wallet, (400, 403, 404, 422))
    good = await client.get("/api/v1/me/transfers", params={"cursor": "1.1"}, headers=resident.headers)
    assert good.status_code == 200


async def test_unicode_digits_in_tokens_and_cursors_are_not_a_crash(client, factory):
    tenant = await factory.tenant()
    resident = await login(client, await factory.person(tenant))
    for path in ("/verify/²-1-AAAA", "/verify/1-²-AAAA", "/verify/١٢-1-AAAA", f"/verify/{TOO_BIG}-1-AAAA"):
        page = await client.get(path)
        assert page.status_code == 404, path
        assert "text/html" in page.headers["content-type"]
        assert page.headers["x-frame-options"] == "DENY"
    page = await client.get("/wallet/statement", params={"cursor": "²"}, headers=resident.headers)
    assert page.status_code in (200, 400, 422)
    for code in (
        "JE1-²-I-1-AAAAAAAAAAAAAAAA",
        "JE1-1-I-²-AAAAAAAAAAAAAAAA",
        "JM1-ABCDEFGHJK-²-AAAAAAAAAAAAAAAA",
    ):
        answer = assert_refused(
            await client.post("/api/v1/scans", json={"code": code}, headers=resident.headers)
        )
        assert answer["code"] in ("code_invalid", "validation_error"), (code, answer)


async def test_a_non_ascii_character_in_a_codes_mac_is_simply_invalid(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await login(client, await factory.person(tenant))
    event_id = await make_event(client, admin, tenant.community_id)
    good = await kiosk_code(client, admin, event_id)
    forged = good[:-1] + "É"
    answer = assert_refused(
        await client.post("/api/v1/scans", json={"code": forged}, headers=resident.headers)
    )
    assert answer["code"] == "code_invalid"
    card = await client.get("/api/v1/me/card", headers=resident.headers)
    forged_card = card.json()["code"][:-1] + "ß"
    answer = assert_refused(
        await client.post(
            "/api/v1/scans",
            json={"code": forged_card, "event_id": event_id, "action": "checkin"},
            headers=admin.headers,
        )
    )
    assert answer["code"] == "code_invalid"
    page = await client.get(f"/verify/{resident.user_id}-{tenant.community_id}-ÉÉÉÉ")
    assert page.status_code == 404


async def test_event_times_in_year_9999_are_refused(client, factory, db):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    cid = tenant.community_id
    for body in (
        event_body(starts_at="9999-12-31T20:00:00+08:00", ends_at="9999-12-31T23:00:00+08:00"),
        event_body(ends_at="9999-12-31T23:59:59+00:00"),
        event_body(starts_at="0001-01-01T00:00:00+00:00"),
    ):
        answer = assert_refused(
            await client.post(f"/api/v1/communities/{cid}/events", json=body, headers=admin.headers), (422,)
        )
        assert answer["code"] == "validation_error"
    assert await count(db, "SELECT count(*) FROM events WHERE community_id = :c", c=cid) == 0
    start = clock.now() + timedelta(days=1)
    fine = event_body(starts_at=start.isoformat(), ends_at=(start + timedelta(hours=1)).isoformat())
    ok = await client.post(f"/api/v1/communities/{cid}/events", json=fine, headers=admin.headers)
    assert ok.status_code == 201, ok.text


async def test_form_fields_with_invalid_utf8_or_nul_are_refused_not_stored(client, factory, db):
    tenant = await factory.tenant()
    cookie = await page_login(client, tenant.admin)
    del cookie
    cid = tenant.community_id
    token = await csrf_token(client, "/login")
    for raw in (b"name=%FF%FE", b"name=%E7%B1%B3%00"):
        response = await client.post(
            f"/store/admin/c/{cid}/items",
            content=raw + b"&points_price=5&stock=3&_csrf_token=" + token.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        assert response.status_code in (400, 422), (response.status_code, response.text[:300])
        assert "text/html" in response.headers["content-type"]
        assert response.headers["x-frame-options"] == "DENY"
    assert await count(db, "SELECT count(*) FROM store_items WHERE community_id = :c", c=cid) == 0
    assert await count(db, "SELECT count(*) FROM users WHERE display_name LIKE '%' || chr(65533) || '%'") == 0


async def test_ids_past_bigint_in_forms_are_refused(client, factory):
    tenant = await factory.tenant()
    await page_login(client, tenant.admin)
    token = await csrf_token(client, "/login")
    response = await client.post(
        "/scan",
        data={"code": "JC1-AAAA", "event_id": str(TOO_BIG), "action": "checkin", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code < 500, response.text[:300]


async def test_digits_int_refuses_in_event_and_approval_forms_are_not_a_crash(client, factory):
    """'²' passes str.isdigit() but not int(): as a number, an organiser or a stay in a form it is
    simply not a number, never a 500."""
    tenant = await factory.tenant()
    await page_login(client, tenant.admin)
    cid = tenant.community_id
    start = (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    end = (clock.now() + timedelta(days=2, hours=2)).strftime("%Y-%m-%dT%H:%M")
    for field, value in (("capacity", "²"), ("points_per_hour", "¹²"), ("organiser_ids", "²")):
        token = await csrf_token(client, "/login")
        form = {
            "title": "六清大扫除",
            "category": "cleanup",
            "starts_at": start,
            "ends_at": end,
            "points_per_attendance": "5",
            "points_per_hour": "10",
            "_csrf_token": token,
            field: value,
        }
        response = await client.post(f"/admin/c/{cid}/events", data=form, follow_redirects=False)
        assert response.status_code in (303, 422), (field, response.status_code, response.text[:300])
    token = await csrf_token(client, "/login")
    bulk = await client.post(
        f"/admin/c/{cid}/approvals",
        data={"action": "bulk", "confirm": "1", "checkin_ids": ["²", str(TOO_BIG)], "_csrf_token": token},
        follow_redirects=False,
    )
    assert bulk.status_code < 500, bulk.text[:300]
