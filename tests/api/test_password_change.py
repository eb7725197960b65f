"""A person changes their own password and name: the only way for an account that belongs to two
communities (which neither community's admin may reset), and every other session and token of
the account ends, a thief's too; wrong guesses of the current password are limited."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import SESSION_COOKIE, cookie_header, csrf_token, page_login, session_of
from tests.conftest import count, login


async def _change(client: Any, cookie: str, current: str, new: str) -> Any:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    token = await csrf_token(client, "/me/password")
    return await client.post(
        "/me/password",
        data={"current": current, "password": new, "_csrf_token": token},
        follow_redirects=False,
    )


async def _signed_in(client: Any, cookie: str) -> bool:
    client.cookies.clear()
    answer = await client.get("/me/password", headers=cookie_header(cookie), follow_redirects=False)
    return answer.status_code == 200


async def test_a_member_of_two_communities_changes_their_password_and_every_other_session_ends(
    client: Any, factory: Any, db: Any
) -> None:
    home, elsewhere = await factory.tenant(), await factory.tenant()
    person = await factory.person(home, name="两社区居民")
    other_admin = await login(client, elsewhere.admin)
    joined = await client.post(
        f"/api/v1/communities/{elsewhere.community_id}/residents",
        json={"display_name": "两社区居民", "phone": person.phone},
        headers=other_admin.headers,
    )
    assert joined.status_code == 201, joined.text
    home_page = await client.get("/", headers=cookie_header(await session_of(client, person)))
    assert 'href="/me/password"' in home_page.text  # reached from the home page
    thief = await session_of(client, person)  # another browser, signed in with the old password
    token = (await login(client, person)).headers
    mine = await session_of(client, person)

    wrong = await _change(client, mine, "not-the-password", "a-new-password-1")
    assert wrong.status_code == 422 and "当前密码不对" in wrong.text
    short = await _change(client, mine, person.password, "short")
    assert short.status_code == 422
    assert await _signed_in(client, thief)

    changed = await _change(client, mine, person.password, "a-new-password-1")
    assert changed.status_code == 303 and changed.headers["location"] == "/me/password?done=1"
    fresh = changed.cookies.get(SESSION_COOKIE)
    assert fresh and fresh != mine
    assert await _signed_in(client, fresh)
    assert not await _signed_in(client, thief)
    assert not await _signed_in(client, mine)
    assert (await client.get("/api/v1/me", headers=token)).status_code == 401
    client.cookies.clear()
    old = await client.post("/api/v1/auth/token", json={"phone": person.phone, "password": person.password})
    assert old.status_code == 401
    person.password = "a-new-password-1"
    await page_login(client, person)
    audited = await count(
        db,
        "SELECT count(*) FROM audit_entries WHERE action = 'password.changed' AND target = :t",
        t=f"user:{person.user_id}",
    )
    assert audited == 1


async def test_wrong_guesses_of_the_current_password_are_limited(client: Any, factory: Any) -> None:
    """A session left open on a shared tablet must not be a way to find the password by trying."""
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    mine = await session_of(client, person)
    answers = [
        (await _change(client, mine, f"guess-{n:04d}", "a-new-password-1")).status_code for n in range(11)
    ]
    assert answers == [422] * 10 + [429]
    right = await _change(client, mine, person.password, "a-new-password-1")
    assert right.status_code == 429  # locked for the window, even for the right one
    assert await _signed_in(client, mine)


async def test_a_member_of_two_communities_changes_the_name_their_account_shows(
    client: Any, factory: Any, db: Any
) -> None:
    """Neither community's admin may rename an account that also belongs to the other (the
    resident's page says only its holder can): the holder does, and both communities see it."""
    home, elsewhere = await factory.tenant(), await factory.tenant()
    person = await factory.person(home, name="张三错字")
    other_admin = await login(client, elsewhere.admin)
    joined = await client.post(
        f"/api/v1/communities/{elsewhere.community_id}/residents",
        json={"display_name": "张三错字", "phone": person.phone},
        headers=other_admin.headers,
    )
    assert joined.status_code == 201, joined.text
    mine = await session_of(client, person)
    client.cookies.set(SESSION_COOKIE, mine)
    assert 'href="/me/name"' in (await client.get("/")).text
    token = await csrf_token(client, "/me/name")
    empty = await client.post(
        "/me/name", data={"display_name": "  ", "_csrf_token": token}, follow_redirects=False
    )
    assert empty.status_code == 422
    renamed = await client.post(
        "/me/name", data={"display_name": "张三", "_csrf_token": token}, follow_redirects=False
    )
    assert renamed.status_code == 303 and renamed.headers["location"] == "/me/name?done=1"
    for tenant in (home, elsewhere):
        answer = await client.get(
            f"/api/v1/communities/{tenant.community_id}/residents/{person.user_id}",
            headers=(await login(client, tenant.admin)).headers,
        )
        assert answer.json()["display_name"] == "张三", answer.text
    audited = await count(
        db,
        "SELECT count(*) FROM audit_entries WHERE action = 'user.renamed' AND target = :t",
        t=f"user:{person.user_id}",
    )
    assert audited == 1
