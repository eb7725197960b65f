"""Security basics (issue 2), each with a test: sessions, cookies, CSRF, passwords, headers,
escaping and the Litestar version."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from app.accounts.models import User
from app.asgi import create_app, template_environment
from app.core import clock
from app.core.security import password_hasher
from tests.api.helpers import (
    cookie_header,
    csrf_token,
    page_login,
    post_form,
    session_of,
    set_cookies,
)
from tests.conftest import ROOT, login

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Not under /api/ and yet without a form token, for a reason: Stripe signs its webhooks.
CSRF_EXEMPT = {"/stripe/webhook"}
# The offline Stripe's API, called server to server by the stripe library as Stripe's own is (its
# test-payment page, which a person uses, keeps the token).
CSRF_EXEMPT_PREFIXES = ("/offline-stripe/v1/",)


@pytest.fixture
def moved_clock():
    yield clock
    clock.reset()


# ---------------------------------------------------------------- sessions


async def test_a_session_id_planted_before_login_never_survives_login(client, factory):
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    planted = "attacker-chosen-session-id-0123456789abcdef"
    client.cookies.set("jl_session", planted)
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        data={"phone": person.phone, "password": person.password, "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    issued = response.cookies.get("jl_session")
    assert issued and issued != planted
    assert (await client.get("/api/v1/me", headers=cookie_header(planted))).status_code == 401
    assert (await client.get("/api/v1/me", headers=cookie_header(issued))).json()["id"] == person.user_id


async def test_an_attackers_own_valid_session_planted_in_a_victims_browser_is_replaced(client, factory):
    tenant = await factory.tenant()
    attacker = await factory.person(tenant)
    victim = await factory.person(tenant)
    attackers_session = await session_of(client, attacker)
    client.cookies.clear()
    client.cookies.set("jl_session", attackers_session)
    victims_session = await page_login(client, victim)
    assert victims_session != attackers_session
    # The planted id is ended, not upgraded to the victim's identity.
    assert (await client.get("/api/v1/me", headers=cookie_header(attackers_session))).status_code == 401
    me = await client.get("/api/v1/me", headers=cookie_header(victims_session))
    assert me.json()["id"] == victim.user_id


async def test_session_cookie_is_httponly_samesite_lax_and_not_secure_on_local_http(client, factory):
    tenant = await factory.tenant()
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        data={"phone": tenant.admin.phone, "password": tenant.admin.password, "_csrf_token": token},
        follow_redirects=False,
    )
    cookie = next(c for c in set_cookies(response.headers) if c.startswith("jl_session="))
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags


async def test_cookies_are_secure_with_secure_cookies_and_use_the_host_prefix(settings, factory):
    secure_app = create_app(replace(settings, secure_cookies=True))
    tenant = await factory.tenant()
    async with AsyncTestClient(app=secure_app, base_url="https://testserver.local") as client:
        page = await client.get("/login")
        csrf_cookie = next(c for c in set_cookies(page.headers) if c.startswith("jl_csrf="))
        assert "secure" in [p.strip().lower() for p in csrf_cookie.split(";")]
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        response = await client.post(
            "/login",
            data={"phone": tenant.admin.phone, "password": tenant.admin.password, "_csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        cookies = set_cookies(response.headers)
        session = next(c for c in cookies if c.startswith("__Host-jl_session="))
        flags = [p.strip().lower() for p in session.split(";")]
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= set(flags)
        assert not any(f.startswith("domain=") for f in flags)
        assert not any(c.startswith("jl_session=") for c in cookies)
        prefs = await client.post(
            "/prefs/lang", data={"lang": "en", "next": "/", "_csrf_token": token}, follow_redirects=False
        )
        lang_cookie = next(c for c in set_cookies(prefs.headers) if c.startswith("lang="))
        assert "secure" in [p.strip().lower() for p in lang_cookie.split(";")]
        assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_idle_sessions_end(client, factory, settings, moved_clock):
    tenant = await factory.tenant()
    session = await session_of(client, tenant.admin)
    moved_clock.advance(timedelta(minutes=settings.session_idle_minutes - 5))
    assert (await client.get("/api/v1/me", headers=cookie_header(session))).status_code == 200
    # Activity keeps it alive; silence past the idle limit ends it.
    moved_clock.advance(timedelta(minutes=settings.session_idle_minutes + 1))
    assert (await client.get("/api/v1/me", headers=cookie_header(session))).status_code == 401
    page = await client.get("/admin/c/1/residents", headers=cookie_header(session), follow_redirects=False)
    assert page.status_code in (302, 303) and page.headers["location"].startswith("/login")


async def test_sessions_end_at_the_absolute_limit_even_when_used(client, factory, settings, moved_clock):
    tenant = await factory.tenant()
    session = await session_of(client, tenant.admin)
    step = timedelta(minutes=settings.session_idle_minutes - 10)
    lifetime = timedelta(hours=settings.session_absolute_hours)
    elapsed = timedelta(0)
    while elapsed + step < lifetime:
        moved_clock.advance(step)
        elapsed += step
        assert (await client.get("/api/v1/me", headers=cookie_header(session))).status_code == 200
    moved_clock.advance(lifetime - elapsed + timedelta(minutes=1))
    assert (await client.get("/api/v1/me", headers=cookie_header(session))).status_code == 401


async def test_logout_really_ends_the_session(client, factory):
    tenant = await factory.tenant()
    session = await session_of(client, tenant.admin)
    response = await post_form(client, "/logout")
    assert response.status_code == 303
    cleared = next(c for c in set_cookies(response.headers) if c.startswith("jl_session="))
    assert "max-age=0" in cleared.lower() or "expires=" in cleared.lower()
    # Replaying the old cookie does not work: the session is gone on the server.
    assert (await client.get("/api/v1/me", headers=cookie_header(session))).status_code == 401
    home = await client.get("/", headers=cookie_header(session))
    assert "/login" in home.text and tenant.admin.display_name not in home.text.split("<footer")[1]


async def test_pages_are_not_kept_for_the_back_button(client, factory):
    """A person's pages are not stored by the browser: after logging out, Back showed the points
    statement of whoever had used the phone, and twice Back from a cancelled order showed it
    waiting with its pickup code, from the browser's cache (Chrome's back and forward reuse any
    stored page, however stale, unless told not to store it). Files that say how long to keep
    them keep saying so."""
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    await session_of(client, person)
    pages = {
        "statement": await client.get(f"/wallet/statement?community_id={tenant.community_id}"),
        "home": await client.get("/"),
        "htmx fragment": await client.get("/notices", headers={"HX-Request": "true"}),
        "login page": await client.get("/login"),
        "404 page": await client.get("/no/such/page"),
    }
    for where, response in pages.items():
        assert response.headers.get("cache-control") == "no-store", where
    static = await client.get("/static/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


# ---------------------------------------------------------------- CSRF


def _unsafe_form_routes(app) -> list[tuple[str, str]]:
    """Every unsafe route handler of the app outside /api/ (other domains' routes included)."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/api/"):
            continue
        if route.path in CSRF_EXEMPT or route.path.startswith(CSRF_EXEMPT_PREFIXES):
            continue
        for method in sorted(set(route.methods) & UNSAFE):
            found.append((method, route.path))
    return found


def _concrete(path: str, community_id: int) -> str:
    def value(match: re.Match[str]) -> str:
        kind = match.group(2) or "str"
        if kind == "int":
            return str(community_id)
        if kind == "uuid":
            return "00000000-0000-0000-0000-000000000001"
        return "x"

    return re.sub(r"\{(\w+)(?::(\w+))?\}", value, path)


async def test_every_unsafe_form_route_refuses_a_request_without_csrf_token(client, app, factory, db):
    tenant = await factory.tenant()
    session = await session_of(client, tenant.admin)
    routes = _unsafe_form_routes(app)
    # The foundation's own forms are among them; later domains' are checked the same way.
    assert {("POST", "/login"), ("POST", "/logout"), ("POST", "/prefs/lang")} <= set(routes)
    assert len(routes) >= 12
    name_before = (
        await db.execute(select(User.display_name).where(User.id == tenant.admin.user_id))
    ).scalar()
    for method, path in routes:
        url = _concrete(path, tenant.community_id)
        for token in (None, "forged-token"):
            data = {"display_name": "CSRF", "name": "CSRF", "action": "details"}
            if token:
                data["_csrf_token"] = token
            response = await client.request(
                method, url, data=data, headers=cookie_header(session), follow_redirects=False
            )
            assert response.status_code == 403, (method, url, token, response.status_code)
            assert "csrf_failed" in response.text, (method, url)
    # Nothing happened; the session still works.
    await db.rollback()
    name_after = (await db.execute(select(User.display_name).where(User.id == tenant.admin.user_id))).scalar()
    assert name_after == name_before
    assert (await client.get("/api/v1/me", headers=cookie_header(session))).status_code == 200


async def test_cookie_authenticated_api_writes_need_the_csrf_header(client, factory, db):
    tenant = await factory.tenant()
    session = await session_of(client, tenant.admin)
    url = f"/api/v1/communities/{tenant.community_id}/residents"
    refused = await client.post(url, json={"display_name": "跨站"}, headers=cookie_header(session))
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    allowed = await client.post(
        url, json={"display_name": "本站"}, headers={**cookie_header(session), "X-Jinlin-CSRF": "1"}
    )
    assert allowed.status_code == 201
    # Reads with the cookie need no header; bearer tokens need none either.
    assert (await client.get("/api/v1/me", headers=cookie_header(session))).status_code == 200
    admin = await login(client, tenant.admin)
    client.cookies.clear()
    assert (await client.post(url, json={"display_name": "令牌"}, headers=admin.headers)).status_code == 201


async def test_no_unsafe_api_route_succeeds_on_a_cookie_without_the_csrf_header(client, app, factory):
    tenant = await factory.tenant()
    session = await session_of(client, tenant.admin)
    checked = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for method in sorted(set(route.methods) & UNSAFE):
            url = _concrete(route.path, tenant.community_id)
            response = await client.request(method, url, json={}, headers=cookie_header(session))
            assert response.status_code >= 400, (method, url, response.status_code)
            checked += 1
    assert checked >= 3


# ---------------------------------------------------------------- passwords


async def test_passwords_use_argon2id_with_the_processs_parameters(factory, db):
    # The tests run the cheap profile (JINLIN_ARGON2=fast); tests/unit/test_passwords.py holds
    # production to the library's defaults.
    tenant = await factory.tenant()
    stored = await db.scalar(select(User.password_hash).where(User.id == tenant.admin.user_id))
    current = password_hasher(os.environ.get("JINLIN_ARGON2"))
    assert stored.startswith("$argon2id$")
    assert f"m={current.memory_cost},t={current.time_cost},p={current.parallelism}" in stored
    assert tenant.admin.password not in stored


async def test_a_weaker_hash_is_upgraded_at_login(client, factory, db):
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(person.password)
    await db.execute(update(User).where(User.id == person.user_id).values(password_hash=weak))
    await db.commit()
    await login(client, person)
    await db.rollback()
    upgraded = await db.scalar(select(User.password_hash).where(User.id == person.user_id))
    assert upgraded != weak and upgraded.startswith("$argon2id$")
    current = password_hasher(os.environ.get("JINLIN_ARGON2"))
    assert not current.check_needs_rehash(upgraded)
    current.verify(upgraded, person.password)


# ---------------------------------------------------------------- headers


def _assert_security_headers(response, where: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    script_src = next((d for d in csp.split(";") if d.strip().startswith("script-src")), "")
    assert script_src and "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, where
    assert "frame-ancestors 'none'" in csp, where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") in (
        "same-origin",
        "strict-origin-when-cross-origin",
        "no-referrer",
    )


async def test_security_headers_on_every_kind_of_response(client, factory):
    tenant = await factory.tenant()
    person = await login(client, await factory.person(tenant))
    responses = {
        "welcome page": await client.get("/"),
        "login page": await client.get("/login"),
        "404 page": await client.get("/no/such/page"),
        "404 api": await client.get("/api/v1/no-such-thing"),
        "405": await client.delete("/healthz"),
        "403 page": await client.get(f"/admin/c/{tenant.community_id}/residents", headers=person.headers),
        "csrf refusal": await client.post("/prefs/lang", data={"lang": "en"}),
        "static css": await client.get("/static/app.css"),
        "static js": await client.get("/static/app.js"),
        "api ok": await client.get("/api/v1/me", headers=person.headers),
        "api 401": await client.get("/api/v1/me"),
        "api 422": await client.post("/api/v1/auth/token", json={}),
        "svg": await client.get("/api/v1/me/card.svg", headers=person.headers),
        "healthz": await client.get("/healthz"),
        "schema": await client.get("/schema/openapi.json"),
    }
    assert responses["404 page"].status_code == 404 and responses["static css"].status_code == 200
    for where, response in responses.items():
        _assert_security_headers(response, where)


# ---------------------------------------------------------------- escaping


async def test_user_text_is_escaped_on_pages(client, factory):
    tenant = await factory.tenant()
    await factory.person(tenant, name="<script>alert(1)</script>", phone=None)
    await session_of(client, tenant.admin)
    page = await client.get(f"/admin/c/{tenant.community_id}/residents")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)</script>" not in page.text


def test_safe_filter_is_only_ever_applied_to_the_csrf_input():
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        source = path.read_text()
        for match in re.finditer(r"\{\{(.*?)\}\}", source, flags=re.S):
            expression = match.group(1)
            if re.search(r"\|\s*safe\b", expression) and expression.strip() != "csrf_input | safe":
                offenders.append(f"{path.relative_to(ROOT)}: {{{{{expression}}}}}")
        if re.search(r"\{%-?\s*(autoescape\s+false|filter\s+safe)", source):
            offenders.append(f"{path.relative_to(ROOT)}: autoescape switched off")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source):
            offenders.append(f"{path.relative_to(ROOT)}: inline <script>")
    assert offenders == []


def test_python_code_does_not_mark_user_text_safe():
    for path in (ROOT / "app").rglob("*.py"):
        source = path.read_text()
        assert "Markup(" not in source, path
        assert "autoescape=False" not in source, path


def test_a_sentence_with_whole_dates_escapes_all_but_the_dates_markup():
    """The period lines mark their dates up in templates (templates/_dates.html), not in Python: the
    message and any other parameter are escaped as ever."""
    env = template_environment()
    sentence = env.from_string(
        '{% from "_dates.html" import whole %}{{ (message|e) % {"day": whole(day), "name": name} }}'
    )
    rendered = sentence.render(message="<i>%(day)s</i> %(name)s's", day="<b>2026-12-01", name="<s>")
    assert rendered == (
        '&lt;i&gt;<span class="unbroken">&lt;b&gt;2026-12-01</span>&lt;/i&gt; &lt;s&gt;&#39;s'
    )


def test_templates_autoescape_by_extension():
    env = template_environment()
    rendered = env.from_string("{{ value }}").render(value="<b>")
    assert rendered == "&lt;b&gt;"
    assert env.select_template(["base.html"]).environment.autoescape


def test_litestar_is_at_least_2_22():
    major, minor = (int(part) for part in version("litestar").split(".")[:2])
    assert (major, minor) >= (2, 22)


def test_the_lock_file_pins_a_safe_litestar():
    lock = Path(ROOT / "uv.lock").read_text()
    match = re.search(r'name = "litestar"\nversion = "(\d+)\.(\d+)', lock)
    assert match and (int(match.group(1)), int(match.group(2))) >= (2, 22)
