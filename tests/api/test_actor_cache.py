"""Who is asking is remembered per worker, and forgotten the moment PostgreSQL says a session
ended or somebody's rights changed (app.accounts.actor_cache, migration 0009)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts import services
from app.accounts.models import Membership, User
from app.core import clock
from app.core.authz import Actor
from app.core.changes import APPLICATION_NAME, CLOCK, Memo, committed_waits
from app.core.security import token_digest
from app.core.uow import connect_arguments
from tests.api.helpers import cookie_header, page_login, post_form
from tests.conftest import login, refused_reconnections


async def until(condition, seconds: float = 5) -> None:
    """Waits for a state that another task of this loop changes (the cache's listener)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the listener sets no event the test could await
            await asyncio.sleep(0.005)


async def _told(actors, since: int, table: str, column: str, value: object) -> None:
    """The change's notification reached this worker (a test of the triggers, not a sleep):
    it heard of that row after `since` (CLOCK.now before the change)."""
    tag = (table, column, str(value))
    await until(lambda: actors.feed.heard_at(tag) > since)


async def _settled(actors, *people) -> None:
    """The notifications of making these people (their memberships) have come in, so that
    none arrives late in the middle of a test."""
    for person in people:
        await _told(actors, 0, "memberships", "user_id", person.user_id)


async def _live(actors) -> None:
    await until(lambda: actors.feed.live, 10)


async def test_a_known_token_is_answered_from_memory_and_touched_once_a_minute(client, app, factory, db):
    actors = app.state["actors"]
    await _live(actors)
    tenant = await factory.tenant()
    resident = await login(client, await factory.person(tenant))
    await _settled(actors, resident)
    assert (await client.get("/api/v1/me", headers=resident.headers)).status_code == 200
    hits = actors.hits
    for _ in range(3):
        assert (await client.get("/api/v1/me", headers=resident.headers)).status_code == 200
    assert actors.hits == hits + 3

    clock.advance(timedelta(minutes=2))
    try:
        assert (await client.get("/api/v1/me", headers=resident.headers)).status_code == 200
        assert actors.hits == hits + 3  # past its minute: asked the database, which touched it
        seen = await db.scalar(
            text("SELECT last_seen_at FROM auth_sessions WHERE digest = :d"),
            {"d": token_digest(resident.token)},
        )
        assert seen >= clock.now() - timedelta(seconds=5)
    finally:
        clock.reset()


@pytest.mark.parametrize(
    ("change", "table", "status"),
    [
        ("DELETE FROM auth_sessions WHERE user_id = :user", "auth_sessions", 401),
        ("UPDATE users SET is_active = false WHERE id = :user", "users", 401),
        (
            "UPDATE memberships SET roles = ARRAY['resident','admin'] WHERE user_id = :user",
            "memberships",
            200,
        ),
    ],
    ids=["session-ended", "deactivated", "made-admin"],
)
async def test_a_change_of_rights_reaches_the_next_request(client, app, factory, db, change, table, status):
    actors = app.state["actors"]
    await _live(actors)
    tenant = await factory.tenant()
    resident = await login(client, await factory.person(tenant))
    await _settled(actors, resident)
    members = f"/api/v1/communities/{tenant.community_id}/residents"
    assert (await client.get("/api/v1/me", headers=resident.headers)).status_code == 200
    assert (await client.get("/api/v1/me", headers=resident.headers)).status_code == 200  # from memory
    before = await client.post(members, headers=resident.headers, json={"display_name": "x", "phone": "1"})
    assert before.status_code == 403

    since = CLOCK.now
    await db.execute(text(change), {"user": resident.user_id})
    await db.commit()
    await _told(actors, since, table, "id" if table == "users" else "user_id", resident.user_id)

    if status == 401:
        answer = await client.get("/api/v1/me", headers=resident.headers)
        assert answer.status_code == 401
        assert answer.json()["code"] == "not_authenticated"
    else:
        me = (await client.get("/api/v1/me", headers=resident.headers)).json()
        assert sorted(me["memberships"][0]["roles"]) == ["admin", "resident"]


async def test_what_no_actor_depends_on_tells_nobody(client, app, factory, db):
    """A session's once-a-minute touch, a membership's room and an update that changes no value
    send no notification (the WHEN clauses of migration 0009's triggers)."""
    actors = app.state["actors"]
    await _live(actors)
    tenant = await factory.tenant()
    resident = await login(client, await factory.person(tenant))
    await _settled(actors, resident)
    since = CLOCK.now
    await db.execute(
        text("UPDATE memberships SET roles = ARRAY['resident','volunteer'] WHERE user_id = :u"),
        {"u": resident.user_id},
    )
    await db.commit()
    await _told(actors, since, "memberships", "user_id", resident.user_id)  # a real change tells ...
    generation = actors.generation
    for quiet in (
        "UPDATE auth_sessions SET last_seen_at = now() WHERE user_id = :u",
        "UPDATE memberships SET room = '302' WHERE user_id = :u",
        "UPDATE memberships SET roles = roles WHERE user_id = :u",
        "UPDATE users SET display_name = display_name WHERE id = :u",
    ):
        await db.execute(text(quiet), {"u": resident.user_id})
    await db.commit()
    with pytest.raises(TimeoutError):  # ... these do not
        await until(lambda: actors.generation != generation, 0.5)


async def test_a_change_forgets_only_the_actors_that_depend_on_it(client, app, factory, db):
    """One resident's logout, role change or new session leaves every other remembered actor
    in memory."""
    actors = app.state["actors"]
    await _live(actors)
    tenant = await factory.tenant()
    alice = await login(client, await factory.person(tenant))
    bob = await login(client, await factory.person(tenant))
    await _settled(actors, alice, bob)
    for person in (alice, bob):
        assert (await client.get("/api/v1/me", headers=person.headers)).status_code == 200

    async def bob_from_memory() -> bool:
        hits = actors.hits
        assert (await client.get("/api/v1/me", headers=bob.headers)).status_code == 200
        return actors.hits == hits + 1

    assert await bob_from_memory()
    for change, table, column in (
        (
            "UPDATE memberships SET roles = ARRAY['resident','volunteer'] WHERE user_id = :u",
            "memberships",
            "user_id",
        ),
        ("UPDATE users SET display_name = '新名字' WHERE id = :u", "users", "id"),
        ("DELETE FROM auth_sessions WHERE user_id = :u", "auth_sessions", "user_id"),
    ):
        since = CLOCK.now
        await db.execute(text(change), {"u": alice.user_id})
        await db.commit()
        await _told(actors, since, table, column, alice.user_id)
        assert await bob_from_memory(), change
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 401
    # A login (a new session) tells nobody at all.
    generation = actors.generation
    await login(client, alice)
    with pytest.raises(TimeoutError):
        await until(lambda: actors.generation != generation, 0.5)


async def test_a_lookup_that_raced_with_a_change_is_not_kept(client, app):
    actors = app.state["actors"]
    await _live(actors)

    now = clock.now()
    stale = Actor(user_id=1, display_name="x")
    generation = actors.generation
    actors.forget_all()  # a notification came in while the lookup ran
    actors.keep(generation, "digest-of-a-raced-lookup", "token", now + timedelta(hours=1), now, stale)
    assert actors.actor("digest-of-a-raced-lookup", "token", now) is None
    actors.keep(actors.generation, "digest-of-a-calm-lookup", "token", now + timedelta(hours=1), now, stale)
    assert actors.actor("digest-of-a-calm-lookup", "token", now) is stale
    assert actors.actor("digest-of-a-calm-lookup", "cookie", now) is None


async def test_without_its_listening_connection_a_worker_asks_the_database(
    client, app, factory, database_url
):
    actors = app.state["actors"]
    await _live(actors)
    tenant = await factory.tenant()
    resident = await login(client, await factory.person(tenant))
    assert (await client.get("/api/v1/me", headers=resident.headers)).status_code == 200

    with refused_reconnections(actors.feed):
        killer = await asyncpg.connect(**connect_arguments(database_url))
        try:
            killed = await killer.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1 AND datname = current_database()",
                APPLICATION_NAME,
            )
        finally:
            await killer.close()
        assert killed >= 1
        await until(lambda: not actors.feed.live)
        hits = actors.hits
        # Not live: nothing comes from memory, and the answers are still right.
        assert (await client.get("/api/v1/me", headers=resident.headers)).status_code == 200
        assert actors.hits == hits
    await _live(actors)  # and it comes back by itself
    assert (await client.get("/api/v1/me", headers=resident.headers)).status_code == 200
    assert (await client.get("/api/v1/me", headers=resident.headers)).status_code == 200
    assert actors.hits > hits


async def test_a_logout_is_refused_on_every_worker_at_once(live_server, factory):
    """A cookie session on a two-worker server: both workers have it in memory, the resident logs
    out through the page, and the very next requests with that cookie are refused by whichever
    worker answers."""
    tenant = await factory.tenant()
    resident = await factory.person(tenant)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        session = await page_login(http, resident)
        http.cookies.clear()
        for _ in range(30):
            assert (await http.get("/api/v1/me", headers=cookie_header(session))).status_code == 200
        http.cookies.set("jl_session", session)
        logout = await post_form(http, "/logout")
        assert logout.status_code == 303
        http.cookies.clear()
        for _ in range(30):
            assert (await http.get("/api/v1/me", headers=cookie_header(session))).status_code == 401


async def test_nothing_is_remembered_longer_than_its_max_age(client, app):
    """Were notifications lost without the connection dropping, memory still expires."""
    await _live(app.state["actors"])
    memo: Memo[int, str] = Memo(app.state["actors"].feed, ("events",), max_age=0.2)
    memo.put(memo.generation, 1, "event row")
    assert memo.get(1) == "event row"
    await asyncio.sleep(0.3)
    assert memo.get(1) is None


async def test_a_role_revoked_is_refused_on_every_worker_at_once(live_server, factory):
    """A staff member's bearer token on a two-worker server: both workers remember it, an admin
    takes the staff role away, and the very next requests with that token are refused by
    whichever worker answers."""
    tenant = await factory.tenant()
    staff = await factory.person(tenant, roles=["resident", "staff"])
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        await login(http, staff)
        admin = await login(http, tenant.admin)
        resident_page = f"/api/v1/communities/{tenant.community_id}/residents/{staff.user_id}"
        for _ in range(30):
            assert (await http.get(resident_page, headers=staff.headers)).status_code == 200
        revoked = await http.post(
            f"{resident_page}/roles", headers=admin.headers, json={"roles": ["resident"]}
        )
        assert revoked.status_code == 200, revoked.text
        for _ in range(30):
            assert (await http.get(resident_page, headers=staff.headers)).status_code == 403


async def test_a_rights_change_answers_only_once_this_worker_has_heard_it(client, app, factory):
    """In-process: when the role change's response arrives, the worker has already heard the
    notification (so every worker has been told)."""
    feed = app.state["actors"].feed
    await _live(app.state["actors"])
    tenant = await factory.tenant()
    staff = await factory.person(tenant, roles=["resident", "staff"])
    admin = await login(client, tenant.admin)
    await _settled(app.state["actors"], staff)
    tag = ("memberships", "user_id", str(staff.user_id))
    before = CLOCK.now
    revoked = await client.post(
        f"/api/v1/communities/{tenant.community_id}/residents/{staff.user_id}/roles",
        headers=admin.headers,
        json={"roles": ["resident"]},
    )
    assert revoked.status_code == 200
    assert feed.heard_at(tag) > before


async def test_a_deactivation_through_the_orm_declares_its_wait(client, app, factory, engine):
    """Any path that deactivates an account through the ORM (no route does yet) makes its
    committer wait for the notification; a change of nothing notifying declares nothing."""
    feed = app.state["actors"].feed
    await _live(app.state["actors"])
    tenant = await factory.tenant()
    resident = await factory.person(tenant)
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        user = await session.get(User, resident.user_id)
        membership = await session.scalar(select(Membership).where(Membership.user_id == resident.user_id))
        membership.room = "302"
        await session.commit()
        assert committed_waits(session.info) == []
        user.is_active = False
        await session.commit()
        waits = committed_waits(session.info)
        assert [tag for tag, _ in waits] == [("users", "id", str(resident.user_id))]
    ((tag, since),) = waits
    await until(lambda: feed.heard_at(tag) > since)  # the feed runs on the test client's loop


async def test_a_page_login_over_an_unknown_cookie_tells_nobody(client, app, factory):
    """Logging in replaces whatever session cookie the browser held; one nobody knows deletes
    no row, and so sends no notification (a statement trigger used to flush every worker)."""
    actors = app.state["actors"]
    await _live(actors)
    tenant = await factory.tenant()
    resident = await factory.person(tenant)
    await _settled(actors, resident)
    generation = actors.generation
    client.cookies.set("jl_session", "a-cookie-nobody-issued")
    await page_login(client, resident)
    with pytest.raises(TimeoutError):
        await until(lambda: actors.generation != generation, 0.5)


async def test_a_login_over_a_planted_session_waits_until_it_is_forgotten(
    client, app, factory, engine, settings
):
    """Logging in ends the session id the browser held (an attacker's own, planted): like a
    logout, its committer waits until the worker has heard the row is gone, so the planted id is
    refused at once on every worker."""
    feed = app.state["actors"].feed
    await _live(app.state["actors"])
    tenant = await factory.tenant()
    attacker, victim = await factory.person(tenant), await factory.person(tenant)
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        planted = await services.create_auth_session(session, settings, attacker.user_id, "cookie", None)
        await session.commit()
        committed_waits(session.info)
        await services.create_auth_session(
            session, settings, victim.user_id, "cookie", None, replaces=planted
        )
        await session.commit()
        waits = committed_waits(session.info)
    assert [tag for tag, _ in waits] == [("auth_sessions", "digest", token_digest(planted))]
    ((tag, since),) = waits
    await until(lambda: feed.heard_at(tag) > since)  # the feed runs on the test client's loop
