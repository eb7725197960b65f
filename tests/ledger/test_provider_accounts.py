"""Providers' accounts: a voucher's hold credits the provider, a closed month settles it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

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
