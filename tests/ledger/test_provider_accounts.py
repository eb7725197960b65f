"""Providers' accounts: a voucher's hold credits the provider, a closed month settles it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.errors import DomainError
from app.core.uow import connection_of
from app.ledger import services as ledger
from app.ledger.verify import run_checks


def _move(c: int, u: int, points: int, key: str, kind: str = "award") -> dict[str, Any]:
    return {
        "community_id": c,
        "user_id": u,
        "points": points,
        "kind": kind,
        "reference": "test",
        "memo": "",
        "actor_id": None,
        "idempotency_key": key,
    }


async def test_provider_hold_posts_to_the_provider_and_settles_once(db: Any, factory: Any) -> None:
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    conn = await connection_of(db)
    await ledger.award(conn, **_move(c, u, 50, f"pa-{c}"))
    hold_id, made = await ledger.provider_hold(
        conn, organisation_id=7001, **_move(c, u, 30, f"pv-{c}-1", kind="circle_voucher")
    )
    assert made
    again, made_again = await ledger.provider_hold(
        conn, organisation_id=7001, **_move(c, u, 30, f"pv-{c}-1", kind="circle_voucher")
    )
    assert (again, made_again) == (hold_id, False)
    with pytest.raises(DomainError) as exc:  # the same key for another provider
        await ledger.provider_hold(
            conn, organisation_id=7002, **_move(c, u, 30, f"pv-{c}-1", kind="circle_voucher")
        )
    assert exc.value.code == "conflict"
    with pytest.raises(DomainError) as exc:
        await ledger.provider_hold(
            conn, organisation_id=7002, **_move(c, u, 30, f"pv-{c}-2", kind="circle_voucher")
        )
    assert exc.value.code == "insufficient_points"
    assert await ledger.wallet(conn, c, u) == ledger.Wallet(50, 30, 20)
    await ledger.post_hold(conn, hold_id, actor_id=None)
    assert await ledger.provider_balance(conn, c, 7001) == 30
    assert await ledger.provider_balance(conn, c, 7002) == 0
    assert await ledger.provider_account(conn, c, 7001) != await ledger.provider_account(conn, c, 7002)

    settle = {
        "community_id": c,
        "organisation_id": 7001,
        "kind": "circle_settlement",
        "reference": "statement:1",
        "memo": "",
        "actor_id": None,
    }
    with pytest.raises(DomainError) as exc:
        await ledger.settle_provider(conn, points=31, idempotency_key=f"ps-{c}-x", **settle)
    assert exc.value.code == "insufficient_points"
    first = await ledger.settle_provider(conn, points=30, idempotency_key=f"ps-{c}", **settle)
    assert await ledger.settle_provider(conn, points=30, idempotency_key=f"ps-{c}", **settle) == first
    assert await ledger.provider_balance(conn, c, 7001) == 0
    settled = await db.scalar(
        text(
            "SELECT sum(amount) FROM ledger_transfers t JOIN ledger_accounts a ON a.id = t.credit_account_id "
            "WHERE a.community_id = :c AND a.kind = 'settled'"
        ),
        {"c": c},
    )
    assert settled == 30
    # The store's account is still made on first use next to the provider accounts.
    store_hold = await ledger.hold(conn, **_move(c, u, 5, f"ps-{c}-store", kind="order"))
    assert store_hold
    checks = await run_checks(db, c)
    assert all(check.ok for check in checks), [(x.name, x.problems) for x in checks if not x.ok]
    await db.commit()


async def _redeemed(conn: Any, c: int, u: int, organisation_id: int, points: int, key: str) -> int:
    """A provider's voucher redeemed: the hold posted to its account. Returns the transfer."""
    hold_id, _made = await ledger.provider_hold(
        conn, organisation_id=organisation_id, **_move(c, u, points, key, kind="circle_voucher")
    )
    return await ledger.post_hold(conn, hold_id, actor_id=None)


def _settlement(c: int, organisation_id: int, points: int, key: str) -> dict[str, Any]:
    return {
        "community_id": c,
        "organisation_id": organisation_id,
        "points": points,
        "kind": "circle_settlement",
        "reference": f"organisation:{organisation_id}",
        "memo": "",
        "actor_id": None,
        "idempotency_key": key,
    }


async def test_a_settled_redemption_is_not_reversed_out_of_the_providers_account(
    db: Any, factory: Any
) -> None:
    """Reversing a redemption takes its points back from the provider's account: once its month
    was settled the account no longer holds them, and the reversal drove it negative (ledger
    verify failed) while the points were paid twice, to the resident and in the settlement."""
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    conn = await connection_of(db)
    await ledger.award(conn, **_move(c, u, 50, f"rv-{c}"))
    unsettled = await _redeemed(conn, c, u, 7101, 10, f"rv-{c}-1")
    settled = await _redeemed(conn, c, u, 7102, 30, f"rv-{c}-2")
    await ledger.settle_provider(conn, **_settlement(c, 7102, 30, f"rv-{c}-s"))
    with pytest.raises(DomainError) as exc:
        await ledger.reverse(conn, settled, actor_id=None, reason="错扣", idempotency_key=f"rv-{c}-r2")
    assert exc.value.code == "insufficient_points"
    assert await ledger.provider_balance(conn, c, 7102) == 0
    # Not settled yet: the reversal gives the resident the points back from the provider.
    await ledger.reverse(conn, unsettled, actor_id=None, reason="错扣", idempotency_key=f"rv-{c}-r1")
    assert await ledger.provider_balance(conn, c, 7101) == 0
    assert await ledger.wallet(conn, c, u) == ledger.Wallet(20, 0, 20)
    checks = await run_checks(db, c)
    assert all(check.ok for check in checks), [(x.name, x.problems) for x in checks if not x.ok]
    await db.commit()


async def test_a_settlement_racing_the_reversal_of_its_redemption_lets_one_through(
    engine: Any, db: Any, factory: Any
) -> None:
    """Both on PostgreSQL at once, in transactions of their own, five times: the provider's
    points go either back to the resident or on to the settlement, never to both."""
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as s, s.begin():
        await ledger.award(await connection_of(s), **_move(c, u, 100, f"rr-{c}"))
    outcomes = []
    for round_ in range(5):
        org = 7200 + round_
        async with sessions() as s, s.begin():
            redeemed = await _redeemed(await connection_of(s), c, u, org, 10, f"rr-{c}-{round_}")

        async def settle(org: int = org, round_: int = round_) -> str:
            async with sessions() as s, s.begin():
                await ledger.settle_provider(
                    await connection_of(s), **_settlement(c, org, 10, f"rr-{c}-s{round_}")
                )
            return "settled"

        async def take_back(redeemed: int = redeemed, round_: int = round_) -> str:
            async with sessions() as s, s.begin():
                conn = await connection_of(s)
                await ledger.reverse(
                    conn, redeemed, actor_id=None, reason="错扣", idempotency_key=f"rr-{c}-r{round_}"
                )
            return "reversed"

        results = await asyncio.gather(settle(), take_back(), return_exceptions=True)
        done = [r for r in results if isinstance(r, str)]
        refused = [r for r in results if isinstance(r, DomainError)]
        assert len(done) == 1 and len(refused) == 1, results
        assert refused[0].code == "insufficient_points"
        outcomes.append(done[0])
        async with sessions() as s:
            assert await ledger.provider_balance(await connection_of(s), c, org) == 0
    checks = await run_checks(db, c)
    assert all(check.ok for check in checks), [(x.name, x.problems) for x in checks if not x.ok]
    assert await ledger.wallet(await connection_of(db), c, u) == ledger.Wallet(
        100 - 10 * outcomes.count("settled"), 0, 100 - 10 * outcomes.count("settled")
    )


async def test_a_settlement_is_not_reversed(db: Any, factory: Any) -> None:
    """A settlement pays a closed month's statement, which cannot change: reversing it would put
    the points back in the provider's account while the statement says they were settled."""
    tenant = await factory.tenant()
    person = await factory.person(tenant)
    c, u = tenant.community_id, person.user_id
    conn = await connection_of(db)
    await ledger.award(conn, **_move(c, u, 50, f"sr-{c}"))
    await _redeemed(conn, c, u, 7301, 20, f"sr-{c}-1")
    settlement = await ledger.settle_provider(conn, **_settlement(c, 7301, 20, f"sr-{c}-s"))
    with pytest.raises(DomainError) as exc:
        await ledger.reverse(conn, settlement, actor_id=None, reason="错结", idempotency_key=f"sr-{c}-r")
    assert exc.value.code == "conflict"
    assert await ledger.provider_balance(conn, c, 7301) == 0
    checks = await run_checks(db, c)
    assert all(check.ok for check in checks), [(x.name, x.problems) for x in checks if not x.ok]
    await db.commit()
