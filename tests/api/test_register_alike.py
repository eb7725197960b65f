"""Registering by join code told whether a phone number had an account (409 "This phone number is
already registered"), uncounted: anyone with a community's join code could try number after
number. A known phone and a wrong join code now get one answer, counted alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select

from app.accounts.models import AttemptCounter, User
from tests.api.helpers import post_form
from tests.conftest import unique_phone

ZH = "无法用这个邀请码和手机号注册。如果这个手机号已有账户，请直接登录；否则请向社区居委会核对邀请码。"
EN = (
    "This join code and phone number cannot be registered. If the phone already has an account, "
    "log in; otherwise check the join code with your community office."
)


async def _forget_the_address(db: Any) -> None:
    await db.execute(delete(AttemptCounter).where(AttemptCounter.key == "join:testclient"))
    await db.commit()


async def test_a_known_phone_and_a_wrong_join_code_get_the_same_answer(client: Any, factory: Any, db: Any):
    tenant = await factory.tenant()
    await _forget_the_address(db)
    body = {"password": "s3cret-pass", "display_name": "试探号码的人"}
    try:
        for language, words in (("zh-CN", ZH), ("en", EN)):
            headers = {"Accept-Language": language}
            known = await client.post(
                "/api/v1/auth/register",
                json={**body, "phone": tenant.admin.phone, "join_code": tenant.join_code},
                headers=headers,
            )
            unknown = await client.post(
                "/api/v1/auth/register",
                json={**body, "phone": unique_phone(), "join_code": "NOPE0000"},
                headers=headers,
            )
            assert known.status_code == unknown.status_code == 422
            assert (
                known.json()
                == unknown.json()
                == {"status_code": 422, "code": "validation_error", "detail": words}
            )
            # The page: the same words, what was typed kept (but the password), a way to log in.
            client.headers["Accept-Language"] = language
            page = await post_form(
                client,
                "/register",
                {**body, "phone": tenant.admin.phone, "join_code": tenant.join_code.lower()},
            )
            del client.headers["Accept-Language"]
            assert page.status_code == 422 and words in page.text
            assert f'value="{tenant.admin.phone}"' in page.text and 'value="试探号码的人"' in page.text
            assert "s3cret-pass" not in page.text and 'href="/login"' in page.text
    finally:
        await _forget_the_address(db)
    assert (
        await db.scalar(select(func.count()).select_from(User).where(User.display_name == "试探号码的人"))
        == 0
    )


async def test_tries_with_known_phones_count_towards_the_join_code_lock(client: Any, factory: Any, db: Any):
    tenant = await factory.tenant()
    people = [await factory.person(tenant) for _ in range(20)]
    body = {"password": "s3cret-pass", "display_name": "试探", "join_code": tenant.join_code}
    await _forget_the_address(db)
    try:
        for person in people:
            tried = await client.post("/api/v1/auth/register", json={**body, "phone": person.phone})
            assert tried.status_code == 422, tried.text
        locked = await client.post("/api/v1/auth/register", json={**body, "phone": unique_phone()})
        assert locked.status_code == 429 and locked.json()["code"] == "rate_limited"
    finally:
        await _forget_the_address(db)
    fine = await client.post("/api/v1/auth/register", json={**body, "phone": unique_phone()})
    assert fine.status_code == 201, fine.text
