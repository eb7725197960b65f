"""Requests that meet at the same moment on PostgreSQL, each in a transaction of its own begun
before any goes on: a member's card issued on first use or reissued (one active card, every
answer showing it, never a 500 from the index that allows one active card of a kind), a
community created twice (one, the other 409), two admins taking each other's admin role (one
admin stays)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.accounts import member_cards, services
from app.core.authz import Actor
from app.core.errors import DomainError
from app.places import services as places
from tests.conftest import count, unique

ACTIVE_PRINTED = (
    "SELECT count(*) FROM member_cards WHERE user_id = :u AND kind = 'printed' AND revoked_at IS NULL"
)


async def _at_once(engine: Any, work: Any, times: int = 6) -> list[Any]:
    """`work` in `times` transactions of their own, each begun before any goes on."""
    ready = asyncio.Barrier(times)

    async def one() -> Any:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
            await s.execute(text("SELECT 1"))
            await ready.wait()
            return await work(s)

    return await asyncio.gather(*(one() for _ in range(times)), return_exceptions=True)


async def test_a_printed_card_reissued_at_once_leaves_one_active_card(factory, engine, db):
    """A double tap on the reissue button: each reissue revokes the card before it, the last stands."""
    tenant = await factory.tenant()
    elder = await factory.person(tenant, name="王奶奶", phone=None)
    admin = Actor(tenant.admin.user_id, "管理员", {tenant.community_id: frozenset({"admin"})})
    async with async_sessionmaker(engine)() as s, s.begin():
        await member_cards.printed_card(s, admin, tenant.community_id, elder.user_id)
    answers = await _at_once(
        engine,
        lambda s: member_cards.printed_card(s, admin, tenant.community_id, elder.user_id, reissue=True),
    )
    assert not [a for a in answers if isinstance(a, BaseException)], answers
    assert await count(db, ACTIVE_PRINTED, u=elder.user_id) == 1


async def test_a_phone_card_shown_at_once_for_the_first_time_is_issued_once(factory, engine, db):
    """An imported resident has no phone card until they first open it."""
    tenant = await factory.tenant()
    resident = await factory.person(tenant, name="李四")
    await db.execute(text("DELETE FROM member_cards WHERE user_id = :u"), {"u": resident.user_id})
    await db.commit()
    answers = await _at_once(engine, lambda s: member_cards.phone_card_code(s, resident.user_id))
    assert not [a for a in answers if isinstance(a, BaseException)], answers
    assert len({code for code, _expires in answers}) == 1
    assert (
        await count(
            db,
            "SELECT count(*) FROM member_cards WHERE user_id = :u AND kind = 'phone'",
            u=resident.user_id,
        )
        == 1
    )


async def test_a_community_created_twice_at_once_is_created_once(factory, engine, db):
    """The street admin's form sent twice at once (a double tap): both found the name free, and
    the second's community broke the street's unique names (a 500). One community, the other 409."""
    tenant = await factory.tenant()
    street_admin = Actor(tenant.admin.user_id, "街道管理员", {}, street_ids=frozenset({tenant.street_id}))
    name = unique("新社区")
    answers = await _at_once(
        engine, lambda s: places.create_community(s, street_admin, tenant.street_id, name)
    )
    made = [a for a in answers if not isinstance(a, BaseException)]
    refused = [a for a in answers if isinstance(a, BaseException)]
    assert len(made) == 1, answers
    assert all(isinstance(a, DomainError) and a.code == "conflict" for a in refused), refused
    assert (
        await count(
            db,
            "SELECT count(*) FROM communities WHERE street_id = :s AND name = :n",
            s=tenant.street_id,
            n=name,
        )
        == 1
    )


async def test_two_admins_taking_each_others_admin_role_at_once_leave_one_admin(factory, engine, db):
    """No admin removes their own admin role, so a community always keeps one: two admins each
    taking the other's at the same moment both passed that check, and the community was left
    with no admin. The second now finds it is no longer an admin (403)."""
    tenant = await factory.tenant()
    other = await factory.person(tenant, roles=["admin", "resident"], name="副主任")
    first = Actor(tenant.admin.user_id, "主任", {tenant.community_id: frozenset({"admin"})})
    second = Actor(other.user_id, "副主任", {tenant.community_id: frozenset({"admin", "resident"})})
    ready = asyncio.Barrier(2)

    async def take(actor: Actor, user_id: int) -> Any:
        async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
            await s.execute(text("SELECT 1"))
            await ready.wait()
            return await services.set_roles(s, actor, tenant.community_id, user_id, ["resident"])

    answers = await asyncio.gather(
        take(first, other.user_id), take(second, tenant.admin.user_id), return_exceptions=True
    )
    refused = [a for a in answers if isinstance(a, BaseException)]
    assert len(refused) == 1 and getattr(refused[0], "code", None) == "forbidden", answers
    admins = await count(
        db,
        "SELECT count(*) FROM memberships WHERE community_id = :c AND 'admin' = ANY(roles)",
        c=tenant.community_id,
    )
    assert admins == 1
