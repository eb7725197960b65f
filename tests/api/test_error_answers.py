"""The answers a client gets before any rule of a route is asked (401, 413, 429) are in API.md's
shape, in the caller's language, and tell a script what to do next: a 429 says in Retry-After how
long to wait, a 401 names the scheme the API takes (WWW-Authenticate: Bearer), and a 413 says the
body is too large rather than that something is missing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import text

from app.asgi import create_app
from app.core import codes
from app.core.security import HEADERS
from tests.api.helpers import page_login, post_form
from tests.conftest import login

EN = {"Accept-Language": "en"}


def in_shape(answer: Any, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status_code"] == status and body["code"] == code and body["detail"], body
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-content-type-options"] == HEADERS["x-content-type-options"]
    return body


async def test_a_locked_login_is_429_with_retry_after_in_the_callers_language(client, factory, settings):
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    for _ in range(settings.login_max_failures_per_phone):
        wrong = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": "wrong-one"})
        in_shape(wrong, 401, "invalid_credentials")
    locked = await client.post(
        "/api/v1/auth/token", json={"phone": person.phone, "password": person.password}, headers=EN
    )
    body = in_shape(locked, 429, "rate_limited")
    assert body["detail"] == "Too many failed attempts. Please wait 15 minutes and try again."
    assert int(locked.headers["retry-after"]) == 15 * 60
    zh = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": person.password})
    assert "15" in in_shape(zh, 429, "rate_limited")["detail"] and zh.headers["retry-after"] == "900"


async def test_refused_typed_digits_are_429_with_retry_after(client, factory):
    tenant = await factory.tenant()
    staff = await login(client, await factory.person(tenant, roles=["staff"]))
    answers = [
        await client.post("/api/v1/scans", json={"code": f"{n:08d}"}, headers={**staff.headers, **EN})
        for n in range(10_000_000, 10_000_030)
    ]
    limited = [answer for answer in answers if answer.status_code == 429]
    assert limited, [answer.json()["code"] for answer in answers]
    in_shape(limited[0], 429, "rate_limited")
    assert int(limited[0].headers["retry-after"]) == 15 * 60


async def test_the_typed_digits_retry_after_is_the_window_the_scanner_is_counted_in(
    client, factory, monkeypatch
):
    """The Retry-After of refused typed digits and the window their wrong tries are counted in are
    one value (app.core.codes.TYPED_DIGITS_WINDOW): a second copy of the 15 minutes kept the header
    at 900 seconds whatever the window was, so a kiosk that waited as told was refused again."""
    monkeypatch.setattr(codes, "TYPED_DIGITS_WINDOW", timedelta(minutes=40))
    tenant = await factory.tenant()
    staff = await login(client, await factory.person(tenant, roles=["staff"]))
    answers = [
        await client.post("/api/v1/scans", json={"code": f"{n:08d}"}, headers={**staff.headers, **EN})
        for n in range(20_000_000, 20_000_025)
    ]
    limited = [answer for answer in answers if answer.status_code == 429]
    assert limited, [answer.json()["code"] for answer in answers]
    assert int(limited[0].headers["retry-after"]) == 40 * 60
    assert limited[0].json()["detail"] == "Too many failed attempts. Please wait 40 minutes and try again."


async def test_a_login_lock_names_its_own_window_on_the_api_and_the_page(settings, factory):
    """The sentence of a 429 said "15 minutes" whatever the lock: a login window of 5 minutes
    names 5 minutes, the number of its Retry-After, in both languages and on the login page."""
    short = create_app(replace(settings, login_window_minutes=5))
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    async with AsyncTestClient(app=short, base_url="http://testserver.local") as client:
        for _ in range(settings.login_max_failures_per_phone):
            await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": "wrong-one"})
        body = {"phone": person.phone, "password": person.password}
        en = await client.post("/api/v1/auth/token", json=body, headers=EN)
        assert in_shape(en, 429, "rate_limited")["detail"] == (
            "Too many failed attempts. Please wait 5 minutes and try again."
        )
        assert en.headers["retry-after"] == "300"
        zh = await client.post("/api/v1/auth/token", json=body)
        assert in_shape(zh, 429, "rate_limited")["detail"] == "失败次数过多，请等 5 分钟后再试。"
        refused = await post_form(client, "/login", {**body, "next": "/"})
        assert refused.status_code == 429 and "请等 5 分钟后再试" in refused.text, refused.text[:400]


async def test_a_401_names_the_bearer_scheme_and_a_page_still_redirects(client, factory, db):
    tenant = await factory.tenant()
    person = await login(client, await factory.person(tenant))
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}):
        answer = await client.get("/api/v1/me", headers={**headers, **EN})
        assert in_shape(answer, 401, "not_authenticated")["detail"] == "Please log in first."
        assert answer.headers["www-authenticate"] == "Bearer"
    # A token whose account was deactivated meanwhile.
    await db.execute(text("UPDATE users SET is_active = false WHERE id = :u"), {"u": person.user_id})
    await db.commit()
    answer = await client.get("/api/v1/me", headers=person.headers)
    in_shape(answer, 401, "not_authenticated")
    assert answer.headers["www-authenticate"] == "Bearer"
    page = await client.get("/me/card", follow_redirects=False)
    assert page.status_code in (302, 303) and "www-authenticate" not in page.headers


async def test_a_body_past_the_limit_is_413_saying_so(client, factory):
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    too_big = b'{"name": "' + b"x" * (13 * 1024 * 1024) + b'"}'
    answer = await client.post(
        f"/api/v1/communities/{tenant.community_id}/items",
        content=too_big,
        headers={**admin.headers, **EN, "Content-Type": "application/json"},
    )
    assert in_shape(answer, 413, "validation_error")["detail"] == "The request is too large."


async def test_a_refused_value_is_named_in_the_sentence_a_person_reads(client, factory):
    """A 422 from the request's validation says which fields to look at, in the caller's language,
    beside `errors` for machines; a field left out is named too."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    path = f"/api/v1/communities/{tenant.community_id}/awards"
    wrong = {"user_id": admin.user_id, "points": 0, "reason": "好", "idempotency_key": "k-1"}
    answer = await client.post(path, json=wrong, headers={**admin.headers, **EN})
    body = in_shape(answer, 422, "validation_error")
    assert body["detail"] == "Some of the information is missing or not valid: points."
    assert body["errors"][0]["key"] == "points"
    answer = await client.post(path, json={"user_id": admin.user_id, "points": 5}, headers=admin.headers)
    assert in_shape(answer, 422, "validation_error")["detail"].startswith("有信息没填或填写不正确：")
    assert "reason" in answer.json()["detail"] or "idempotency_key" in answer.json()["detail"]
    # A refusal with a sentence of its own keeps it.
    answer = await client.get("/api/v1/me/transfers?limit=0", headers={**admin.headers, **EN})
    assert in_shape(answer, 422, "validation_error")["detail"] == "The limit must be between 1 and 100."


async def test_a_page_refusing_a_value_keeps_its_plain_sentence(client, factory):
    """A page names no parameter: its reader never typed one (a link carried it)."""
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    await page_login(client, person)
    page = await client.get("/wallet?community_id=abc", headers=EN)
    assert page.status_code == 422 and "text/html" in page.headers["content-type"]
    assert "Some of the information is missing or not valid." in page.text
    assert "not valid: community_id" not in page.text
