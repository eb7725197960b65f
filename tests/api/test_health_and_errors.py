"""Health checks, friendly error pages in zh-Hans and English, and API errors in API.md's shape."""

from __future__ import annotations

import re
from dataclasses import replace

from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.asgi import create_app
from app.core import errors
from app.core.security import HEADERS
from tests.api.helpers import post_form
from tests.conftest import login


async def test_healthz_and_readyz(client):
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_a_monitor_may_ask_with_head_and_a_wrong_method_is_told_in_json(client):
    for path in ("/healthz", "/readyz"):
        asked = await client.head(path)
        assert asked.status_code == 200 and asked.content == b"", (path, asked.status_code)
        wrong = await client.post(path)
        assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed", wrong.text
        assert {"GET", "HEAD"} <= {m.strip() for m in wrong.headers["allow"].split(",")}


async def test_readyz_is_503_when_the_database_is_unreachable(settings):
    broken = create_app(
        replace(settings, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none?timeout=2")
    )
    async with AsyncTestClient(app=broken, base_url="http://testserver.local") as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        assert (await client.head("/readyz")).status_code == 503
        # API.md: every 4xx/5xx JSON body has status_code, code and detail, in the caller's language.
        assert ready.json() == {
            "status": "unavailable",
            "status_code": 503,
            "code": "unavailable",
            "detail": "服务暂时不可用，请稍后再试。",
        }
        en = await client.get("/readyz", headers={"Accept-Language": "en"})
        assert en.json()["detail"] == "The service is briefly unavailable. Please try again in a moment."


async def test_404_page_is_friendly_in_chinese_and_english(client):
    zh = await client.get("/no/such/page")
    assert zh.status_code == 404 and zh.headers["content-type"].startswith("text/html")
    assert 'lang="zh-Hans"' in zh.text and "没有找到您要的内容" in zh.text and 'href="/"' in zh.text
    en = await client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert en.status_code == 404 and "We could not find what you asked for." in en.text
    assert 'lang="en"' in en.text and "Traceback" not in en.text


async def test_403_page_is_friendly_in_chinese_and_english(client, factory):
    tenant = await factory.tenant()
    resident = await login(client, await factory.person(tenant))
    url = f"/admin/c/{tenant.community_id}/residents"
    zh = await client.get(url, headers=resident.headers)
    assert zh.status_code == 403 and "您没有权限" in zh.text and "result-bad" in zh.text
    en = await client.get(url, headers={**resident.headers, "Accept-Language": "en-US,en;q=0.9"})
    assert en.status_code == 403 and "You are not allowed to do this." in en.text


async def test_an_error_page_keeps_its_machine_code_out_of_the_words(client, factory):
    """The error pages said "错误代码： forbidden" (or not_found) under the sentence: English
    codes in a Chinese page, which tell a resident nothing."""
    tenant = await factory.tenant()
    resident = await login(client, await factory.person(tenant))
    for url, code in (
        (f"/admin/c/{tenant.community_id}/residents", "forbidden"),
        ("/no/such/page", "not_found"),
    ):
        page = await client.get(url, headers=resident.headers)
        assert f'data-code="{code}"' in page.text
        words = re.sub(r"<[^>]+>", " ", page.text)
        assert code not in words and "错误代码" not in words, url


async def test_the_language_cookie_beats_accept_language(client):
    page = await client.get("/no/such/page", headers={"Accept-Language": "zh-CN", "Cookie": "lang=en"})
    assert "We could not find" in page.text


async def test_pages_that_need_a_login_send_you_to_the_login_page(client):
    response = await client.get("/me/card", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"] == "/login?next=/me/card"


async def test_api_errors_have_status_code_code_and_detail(client, factory):
    tenant = await factory.tenant()
    resident = await login(client, await factory.person(tenant))
    cases = [
        (await client.get("/api/v1/me"), 401, "not_authenticated"),
        (await client.get("/api/v1/nothing-here"), 404, "not_found"),
        (await client.post("/api/v1/auth/token", json={"phone": "1"}), 422, "validation_error"),
        (
            await client.post(
                f"/api/v1/communities/{tenant.community_id}/residents",
                json={"display_name": "x"},
                headers=resident.headers,
            ),
            403,
            "forbidden",
        ),
        (
            await client.post("/api/v1/auth/token", json={"phone": "13900000000", "password": "wrong-wrong"}),
            401,
            "invalid_credentials",
        ),
    ]
    for response, status, code in cases:
        body = response.json()
        assert response.status_code == status, body
        assert body["status_code"] == status and body["code"] == code
        assert isinstance(body["detail"], str) and body["detail"]
    en = await client.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert en.json()["detail"] == "Please log in first."


async def test_an_over_long_token_is_simply_unknown_not_a_crash(client):
    response = await client.get("/api/v1/me", headers={"Authorization": "Bearer " + "x" * 500})
    # An over-long token is simply unknown: 401, not a crash.
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


async def test_language_and_elder_switches_are_remembered(client):
    lang = await post_form(client, "/prefs/lang", {"lang": "en", "next": "/login"})
    assert lang.status_code == 303 and lang.headers["location"] == "/login"
    assert "Log in" in (await client.get("/login")).text
    elder = await post_form(client, "/prefs/elder", {"elder": "1", "next": "https://evil.example/"})
    assert elder.headers["location"] == "/"  # never off-site
    assert 'class="elder' in (await client.get("/login")).text
    off = await post_form(client, "/prefs/elder", {"elder": "0", "next": "//evil.example/"})
    assert off.headers["location"] == "/"
    assert 'class="elder' not in (await client.get("/login")).text


async def test_a_value_postgresql_refuses_is_a_422_not_a_500(database_url):
    """The last line of defence behind the schemas: PostgreSQL's data exceptions (class 22: out
    of range, too long, bad encoding) are the client's input, answered 422; other database
    errors stay 500s."""

    @get("/api/v1/probe/{what:str}")
    async def probe(what: str) -> dict[str, int]:
        sql = {"range": "SELECT CAST(:v AS integer)", "missing": "SELECT v FROM no_such_table WHERE :v > 0"}
        # An engine of its own: the test client runs the app on another event loop.
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return {"v": (await conn.execute(text(sql[what]), {"v": 2**40})).scalar_one()}
        finally:
            await engine.dispose()

    app = Litestar([probe], exception_handlers=errors.exception_handlers)
    async with AsyncTestClient(app=app) as client:
        refused = await client.get("/api/v1/probe/range")
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "validation_error"
        assert refused.headers["x-frame-options"] == HEADERS["x-frame-options"]
        broken = await client.get("/api/v1/probe/missing")
        assert broken.status_code == 500 and broken.json()["code"] == "internal_error"


async def test_a_method_a_route_does_not_have_is_405_with_allow(app, client):
    checked = 0
    for route in app.routes:
        if not route.path.startswith("/api/v1/"):
            continue
        methods = set(route.methods) - {"OPTIONS", "HEAD"}
        unused = next(m for m in ("DELETE", "PATCH", "PUT", "POST") if m not in methods)
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        response = await client.request(unused, path)
        assert response.status_code == 405, (route.path, unused, response.status_code)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert methods <= allowed, (route.path, allowed)
        body = response.json()
        assert body["status_code"] == 405 and body["code"] == "method_not_allowed" and body["detail"]
        assert response.headers["x-content-type-options"] == HEADERS["x-content-type-options"]
        checked += 1
    assert checked >= 20
