"""The ledger's service functions on real PostgreSQL: moves, holds, idempotency, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.errors import DomainError
from app.core.uow import connection_of
from app.ledger import services as ledger


def _award(community_id: int, user_id: int, points: int, key: str, **kw: Any) -> dict[str, Any]:
    return {
        "community_id": community_id,
        "user_id": user_id,
        "points": points,
        "kind": kw.get("kind", "award"),
        "reference": kw.get("reference", "test"),
        "memo": kw.get("memo", "for helping"),
        "actor_id": None,
        "idempotency_key": key,
    }


async def test_award_creates_wallet_and_repeat_moves_nothing(db: Any, factory: Any) -> None:
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    assert await ledger.wallet(await connection_of(db), c, u) == ledger.Wallet(0, 0, 0)
    first = await ledger.award(await connection_of(db), **_award(c, u, 30, f"a-{c}-1"))
    again = await ledger.award(await connection_of(db), **_award(c, u, 30, f"a-{c}-1"))
    assert first == again
    assert await ledger.wallet(await connection_of(db), c, u) == ledger.Wallet(30, 0, 30)
    with pytest.raises(DomainError) as exc:
        await ledger.award(await connection_of(db), **_award(c, u, 31, f"a-{c}-1"))
    assert (exc.value.code, exc.value.status_code) == ("conflict", 409)
    await db.commit()


async def test_hold_post_void_and_insufficient(db: Any, factory: Any) -> None:
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    await ledger.award(await connection_of(db), **_award(c, u, 10, f"h-{c}-a"))
    h1 = await ledger.hold(
        await connection_of(db), **_award(c, u, 6, f"h-{c}-1", kind="order", reference="order:1")
    )
    assert await ledger.wallet(await connection_of(db), c, u) == ledger.Wallet(10, 6, 4)
    with pytest.raises(DomainError) as exc:
        await ledger.hold(await connection_of(db), **_award(c, u, 5, f"h-{c}-2", kind="order"))
    assert exc.value.code == "insufficient_points"
    assert (
        await ledger.hold(
            await connection_of(db), **_award(c, u, 6, f"h-{c}-1", kind="order", reference="order:1")
        )
        == h1
    )
    t1 = await ledger.post_hold(await connection_of(db), h1, actor_id=None)
    assert await ledger.post_hold(await connection_of(db), h1, actor_id=None) == t1
    assert await ledger.wallet(await connection_of(db), c, u) == ledger.Wallet(4, 0, 4)
    with pytest.raises(DomainError) as exc:
        await ledger.void_hold(await connection_of(db), h1, actor_id=None, reason="x")
    assert exc.value.code == "already_done"
    h2 = await ledger.hold(await connection_of(db), **_award(c, u, 4, f"h-{c}-3", kind="order"))
    await ledger.void_hold(await connection_of(db), h2, actor_id=None, reason="cancelled")
    await ledger.void_hold(await connection_of(db), h2, actor_id=None, reason="cancelled")
    with pytest.raises(DomainError) as exc:
        await ledger.post_hold(await connection_of(db), h2, actor_id=None)
    assert exc.value.code == "already_done"
    assert await ledger.wallet(await connection_of(db), c, u) == ledger.Wallet(4, 0, 4)
    with pytest.raises(DomainError) as exc:
        await ledger.deduct(await connection_of(db), **_award(c, u, 5, f"h-{c}-d", kind="correction"))
    assert exc.value.code == "insufficient_points"
    await ledger.deduct(await connection_of(db), **_award(c, u, 4, f"h-{c}-d2", kind="correction"))
    assert await ledger.wallet(await connection_of(db), c, u) == ledger.Wallet(0, 0, 0)
    await db.commit()


async def test_reversal_once(db: Any, factory: Any) -> None:
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    t = await ledger.award(await connection_of(db), **_award(c, u, 8, f"r-{c}-a"))
    r = await ledger.reverse(
        await connection_of(db), t, actor_id=None, reason="wrong person", idempotency_key=f"r-{c}-r"
    )
    assert (
        await ledger.reverse(
            await connection_of(db), t, actor_id=None, reason="wrong person", idempotency_key=f"r-{c}-r"
        )
        == r
    )
    with pytest.raises(DomainError) as exc:
        await ledger.reverse(
            await connection_of(db), t, actor_id=None, reason="again", idempotency_key=f"r-{c}-r2"
        )
    assert exc.value.code == "already_done"
    with pytest.raises(DomainError) as exc:
        await ledger.reverse(
            await connection_of(db), r, actor_id=None, reason="undo", idempotency_key=f"r-{c}-r3"
        )
    assert exc.value.code == "validation_error"
    assert await ledger.wallet(await connection_of(db), c, u) == ledger.Wallet(0, 0, 0)
    await db.commit()


@pytest.mark.parametrize("points", [0, -1, 2**53, 1.5, True, "5", None])
async def test_bad_amounts_are_refused_and_write_nothing(db: Any, factory: Any, points: Any) -> None:
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    with pytest.raises(DomainError) as exc:
        await ledger.award(await connection_of(db), **_award(c, u, points, f"bad-{c}"))
    assert (exc.value.code, exc.value.status_code) == ("validation_error", 422)
    n = (
        await db.execute(text("SELECT count(*) FROM ledger_transfers WHERE community_id = :c"), {"c": c})
    ).scalar()
    assert n == 0


async def test_database_refuses_update_and_delete_of_transfers(db: Any, factory: Any) -> None:
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    t = await ledger.award(
        await connection_of(db),
        **_award(tenant.community_id, person.user_id, 5, f"imm-{tenant.community_id}"),
    )
    await db.commit()
    for sql in (
        "UPDATE ledger_transfers SET amount = 500 WHERE id = :t",
        "DELETE FROM ledger_transfers WHERE id = :t",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            await db.execute(text(sql), {"t": t})
        await db.rollback()
    amount = (await db.execute(text("SELECT amount FROM ledger_transfers WHERE id = :t"), {"t": t})).scalar()
    assert amount == 5
