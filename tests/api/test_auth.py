"""Registration, login, tokens, rate limits and sessions through the public API."""

from __future__ import annotations

import asyncio
import concurrent.futures
import secrets
from datetime import timedelta

import httpx
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.accounts.models import AttemptCounter
from app.core import clock
from app.demo import ensure_admin
from tests.api.helpers import csrf_token
from tests.conftest import count, login, unique, unique_phone
from tests.qrtools import decode_svg


async def test_register_with_join_code_then_log_in(client, factory):
    tenant = await factory.tenant()
    phone = unique_phone()
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "phone": phone,
            "password": "s3cret-pass",
            "display_name": "陈阿姨",
            "join_code": tenant.join_code,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["community_id"] == tenant.community_id

    token = await client.post("/api/v1/auth/token", json={"phone": phone, "password": "s3cret-pass"})
    assert token.status_code == 200
    assert token.json()["token_type"] == "bearer"
    assert token.json()["user"] == {"id": body["user_id"], "display_name": "陈阿姨"}

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["memberships"] == [
        {
            "community_id": tenant.community_id,
            "community_name": me.json()["memberships"][0]["community_name"],
            "roles": ["resident"],
        }
    ]


async def test_register_with_unknown_join_code_is_refused_and_creates_nobody(client):
    phone = unique_phone()
    response = await client.post(
        "/api/v1/auth/register",
        json={"phone": phone, "password": "s3cret-pass", "display_name": "张三", "join_code": "NOPE0000"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    again = await client.post("/api/v1/auth/token", json={"phone": phone, "password": "s3cret-pass"})
    assert again.json()["code"] == "invalid_credentials"


async def test_register_twice_with_one_phone_is_refused_as_a_wrong_join_code_is(client, factory):
    tenant = await factory.tenant()
    payload = {
        "phone": unique_phone(),
        "password": "s3cret-pass",
        "display_name": "王五",
        "join_code": tenant.join_code,
    }
    assert (await client.post("/api/v1/auth/register", json=payload)).status_code == 201
    second = await client.post("/api/v1/auth/register", json=payload)
    assert second.status_code == 422 and second.json()["code"] == "validation_error"


async def test_wrong_password_is_invalid_credentials_in_the_callers_language(client, factory):
    tenant = await factory.tenant()
    zh = await client.post("/api/v1/auth/token", json={"phone": tenant.admin.phone, "password": "wrong-one"})
    assert zh.status_code == 401
    assert zh.json() == {"status_code": 401, "code": "invalid_credentials", "detail": "手机号或密码不正确。"}
    en = await client.post(
        "/api/v1/auth/token",
        json={"phone": tenant.admin.phone, "password": "wrong-one"},
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    assert en.json()["detail"] == "The phone number or password is wrong."


async def test_ten_failures_lock_the_phone_but_not_other_accounts_from_the_same_address(client, factory, db):
    tenant = await factory.tenant()
    victim = await factory.person(tenant)
    colleague = await factory.person(tenant)
    for _ in range(10):
        r = await client.post("/api/v1/auth/token", json={"phone": victim.phone, "password": "bad-guess"})
        assert r.json()["code"] == "invalid_credentials"
    locked = await client.post(
        "/api/v1/auth/token", json={"phone": victim.phone, "password": victim.password}
    )
    assert locked.status_code == 429 and locked.json()["code"] == "rate_limited"
    # A shared counter tablet keeps working for everyone else.
    assert (
        await client.post(
            "/api/v1/auth/token", json={"phone": colleague.phone, "password": colleague.password}
        )
    ).status_code == 200
    await db.execute(delete(AttemptCounter).where(AttemptCounter.key == f"phone:{victim.phone}"))
    await db.commit()


async def test_api_without_token_or_with_bad_token_is_not_authenticated(client):
    assert (await client.get("/api/v1/me")).json()["code"] == "not_authenticated"
    bad = await client.get("/api/v1/me", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401


async def test_validation_errors_have_the_contract_shape(client):
    response = await client.post("/api/v1/auth/token", json={"phone": 123})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and body["status_code"] == 422 and body["detail"]


async def test_member_card_code_rotates_and_the_svg_is_a_qr_of_it(client, factory):
    tenant = await factory.tenant()
    person = await login(client, await factory.person(tenant))
    card = (await client.get("/api/v1/me/card", headers=person.headers)).json()
    assert card["code"].startswith("JM1-") and card["expires_at"]
    # The code names the card by its random public id, never by the user's id.
    public_id = card["code"].split("-")[1]
    assert public_id != str(person.user_id) and len(public_id) >= 10
    svg = await client.get("/api/v1/me/card.svg", headers=person.headers)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert decode_svg(svg.text) in {
        card["code"],
        (await client.get("/api/v1/me/card", headers=person.headers)).json()["code"],
    }


# ---------------------------------------------------------------- rate limits on the live server


def _from(address: str):
    """An HTTP client whose connections come from `address` (any 127.x.y.z reaches the server)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def _fresh_address() -> str:
    return f"127.{secrets.randbelow(250) + 2}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


def _live_person(live_server, roles=None):
    """A tenant admin made through the CLI-level helper on the live server's database."""
    phone, password = unique_phone(), "live-pass-" + secrets.token_hex(4)

    async def make() -> dict:
        engine = create_async_engine(live_server.env["DATABASE_URL"])
        try:
            async with async_sessionmaker(engine)() as s, s.begin():
                return await ensure_admin(
                    s,
                    phone=phone,
                    password=password,
                    community_name=unique("社区"),
                    street_name=unique("街道"),
                    display_name="管理员",
                )
        finally:
            await engine.dispose()

    # A thread of its own: the sync test may run beside a running event loop (Playwright's).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        ids = pool.submit(asyncio.run, make()).result()
    return ids, phone, password


def test_the_phone_limit_holds_across_worker_processes(live_server):
    ids, phone, password = _live_person(live_server)
    address = _fresh_address()
    for attempt in range(10):
        # A new connection each time, so both workers of the live server take turns.
        with _from(address) as http:
            response = http.post(
                live_server.url + "/api/v1/auth/token",
                json={"phone": phone, "password": f"wrong-{attempt}"},
                headers={"Connection": "close"},
            )
        assert response.status_code == 401, (attempt, response.text)
    for _ in range(4):
        with _from(_fresh_address()) as http:
            locked = http.post(
                live_server.url + "/api/v1/auth/token", json={"phone": phone, "password": password}
            )
        # Locked for everyone, from any address and on any worker, even with the right password.
        assert locked.status_code == 429 and locked.json()["code"] == "rate_limited"


def test_the_address_limit_is_far_above_the_phone_limit(live_server):
    ids, phone, password = _live_person(live_server)
    address = _fresh_address()
    with _from(address) as http:
        # A shared counter tablet: failures across many accounts, more than one phone's limit,
        # do not lock it (the address limit is 100; test_an_address_is_locked_after_100_failures).
        for i in range(12):
            r = http.post(
                live_server.url + "/api/v1/auth/token", json={"phone": unique_phone(), "password": f"x-{i}"}
            )
            assert r.status_code == 401, r.text
        ok = http.post(live_server.url + "/api/v1/auth/token", json={"phone": phone, "password": password})
        assert ok.status_code == 200


async def test_an_address_is_locked_after_100_failures(client, factory, db):
    """Seeded failures stand in for 100 requests; the check is the same code path."""
    tenant = await factory.tenant()
    address = "testclient"  # the test client's address
    saved = await db.get(AttemptCounter, f"address:{address}")
    kept = (saved.attempts, saved.started_at, saved.locked_until) if saved else None
    if saved is None:
        saved = AttemptCounter(key=f"address:{address}")
        db.add(saved)
    saved.attempts, saved.started_at, saved.locked_until = 100, clock.now(), None
    await db.commit()
    try:
        locked = await client.post(
            "/api/v1/auth/token", json={"phone": tenant.admin.phone, "password": tenant.admin.password}
        )
        assert locked.status_code == 429 and locked.json()["code"] == "rate_limited"
    finally:
        if kept is None:
            await db.execute(delete(AttemptCounter).where(AttemptCounter.key == f"address:{address}"))
        else:
            await db.execute(
                update(AttemptCounter)
                .where(AttemptCounter.key == f"address:{address}")
                .values(attempts=kept[0], started_at=kept[1], locked_until=kept[2])
            )
        await db.commit()
    assert (await login(client, tenant.admin)).token


async def test_the_phone_lock_lifts_after_15_minutes(client, factory, db):
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    try:
        for _ in range(10):
            await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": "bad-guess"})
        locked = await client.post(
            "/api/v1/auth/token", json={"phone": person.phone, "password": person.password}
        )
        assert locked.status_code == 429
        clock.advance(timedelta(minutes=15, seconds=1))
        assert (await login(client, person)).token
    finally:
        clock.reset()
        await db.execute(delete(AttemptCounter).where(AttemptCounter.key == f"phone:{person.phone}"))
        await db.commit()


async def test_login_form_shows_wrong_password_and_keeps_the_phone(client, factory):
    tenant = await factory.tenant()
    token = await csrf_token(client)
    response = await client.post(
        "/login", data={"phone": tenant.admin.phone, "password": "nope-nope", "_csrf_token": token}
    )
    assert response.status_code == 401
    assert "手机号或密码不正确" in response.text and tenant.admin.phone in response.text
    assert "jl_session" not in response.headers.get("set-cookie", "")


async def test_the_login_page_says_who_sets_a_forgotten_password(client):
    """The login page had no word for someone who forgot their password (there is no reset by
    text message: the community office sets a new one)."""
    zh = await client.get("/login")
    assert "data-forgot" in zh.text and "忘记密码？请到社区居委会为您重设。" in zh.text
    en = await client.get("/login", headers={"Accept-Language": "en"})
    assert "Forgot your password? Your community office can set a new one for you." in en.text


async def test_simultaneous_registrations_of_one_phone_make_one_account(live_server, factory, db):
    """A double tap on 注册 sends the form twice at once: both found the phone free, and the
    second's insert then broke the phone's unique index (a 500). One account; the others are
    refused as a phone with an account is (422)."""
    tenant = await factory.tenant()
    phone = unique_phone()
    payload = {
        "phone": phone,
        "password": "s3cret-pass",
        "display_name": "王五",
        "join_code": tenant.join_code,
    }
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        answers = await asyncio.gather(*(http.post("/api/v1/auth/register", json=payload) for _ in range(6)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [422] * 5, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 422} == {"validation_error"}
    assert await count(db, "SELECT count(*) FROM users WHERE phone = :p", p=phone) == 1


async def test_simultaneous_enrolments_of_one_new_phone_make_one_account(live_server, client, factory, db):
    """The admin's form sent twice at once: both found the number unknown, and the second's new
    account broke the phone's unique index (a 500). One account and membership, the others 409."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    phone = unique_phone()
    body = {"phone": phone, "display_name": "赵六", "password": "s3cret-pass"}
    url = f"/api/v1/communities/{tenant.community_id}/residents"
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        answers = await asyncio.gather(*(http.post(url, json=body, headers=admin.headers) for _ in range(6)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 5, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"conflict"}
    assert await count(db, "SELECT count(*) FROM users WHERE phone = :p", p=phone) == 1
