"""API.md's ledger routes through the test client: awards, wallet, transfers, bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from app.core import clock
from tests.api.helpers import page_login, post_form
from tests.conftest import count


async def _award(
    client: Any, s: Any, points: Any, key: str, reason: str = "六清 cleanup", user: Any = None
) -> Any:
    return await client.post(
        f"/api/v1/communities/{s.community_id}/awards",
        json={
            "user_id": user or s.resident.user_id,
            "points": points,
            "reason": reason,
            "idempotency_key": key,
        },
        headers=s.admin.headers,
    )


async def test_award_then_repeat_is_200_and_different_body_is_conflict(
    client: Any, setup: Any, db: Any
) -> None:
    first = await _award(client, setup, 20, "k1")
    assert first.status_code == 201, first.text
    again = await _award(client, setup, 20, "k1")
    assert again.status_code == 200
    assert again.json() == first.json()
    other = await _award(client, setup, 21, "k1")
    assert other.status_code == 409 and other.json()["code"] == "conflict"
    other = await _award(client, setup, 20, "k1", reason="different")
    assert other.status_code == 409 and other.json()["code"] == "conflict"
    wallet = await client.get(
        f"/api/v1/me/wallet?community_id={setup.community_id}", headers=setup.resident.headers
    )
    assert wallet.json() == {"community_id": setup.community_id, "balance": 20, "held": 0, "available": 20}
    audits = await count(
        db,
        "SELECT count(*) FROM audit_entries WHERE community_id = :c AND action = 'ledger.award'",
        c=setup.community_id,
    )
    assert audits == 1


async def test_later_awards_in_one_statement_are_audited_and_idempotent_like_the_first(
    client: Any, setup: Any, db: Any
) -> None:
    # The first award creates the wallet (general path); the next ones take the one-statement path.
    assert (await _award(client, setup, 5, "first")).status_code == 201
    second = await _award(client, setup, 7, "second", reason="楼道清理")
    assert second.status_code == 201, second.text
    transfer_id = second.json()["transfer_id"]
    again = await _award(client, setup, 7, "second", reason="楼道清理")
    assert again.status_code == 200 and again.json() == second.json()
    changed = await _award(client, setup, 8, "second", reason="楼道清理")
    assert changed.status_code == 409 and changed.json()["code"] == "conflict"
    row = (
        await db.execute(
            text(
                "SELECT actor_id, target, data->>'reason' AS reason, (data->>'points')::int AS points "
                "FROM audit_entries WHERE community_id = :c AND action = 'ledger.award' "
                "AND target = :t"
            ),
            {"c": setup.community_id, "t": f"transfer:{transfer_id}"},
        )
    ).one()
    assert (row.actor_id, row.reason, row.points) == (setup.admin.user_id, "楼道清理", 7)
    audits = "SELECT count(*) FROM audit_entries WHERE community_id = :c AND action = 'ledger.award'"
    assert await count(db, audits, c=setup.community_id) == 2
    wallet = await client.get(
        f"/api/v1/me/wallet?community_id={setup.community_id}", headers=setup.resident.headers
    )
    assert wallet.json()["balance"] == 12


@pytest.mark.parametrize("points", [0, -5, 2**53, 2**64, 1.5, "10", None, True])
async def test_bad_amounts_are_422_and_write_nothing(client: Any, setup: Any, db: Any, points: Any) -> None:
    response = await _award(client, setup, points, "bad")
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert response.json()["detail"]
    assert (
        await count(db, "SELECT count(*) FROM ledger_transfers WHERE community_id = :c", c=setup.community_id)
        == 0
    )


async def test_unknown_or_foreign_accounts_are_refused(
    client: Any, setup: Any, factory: Any, db: Any
) -> None:
    other = await factory.tenant()
    stranger = await factory.person(other)
    assert (await _award(client, setup, 5, "x1", user=stranger.user_id)).status_code == 404
    assert (await _award(client, setup, 5, "x2", user=10**12)).status_code == 404
    # An admin of one community cannot award in another.
    response = await client.post(
        f"/api/v1/communities/{other.community_id}/awards",
        json={"user_id": stranger.user_id, "points": 5, "reason": "r", "idempotency_key": "x3"},
        headers=setup.admin.headers,
    )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    # A resident cannot award at all, and a reason is required.
    response = await client.post(
        f"/api/v1/communities/{setup.community_id}/awards",
        json={"user_id": setup.resident.user_id, "points": 5, "reason": "r", "idempotency_key": "x4"},
        headers=setup.resident.headers,
    )
    assert response.status_code == 403
    assert (await _award(client, setup, 5, "x5", reason="  ")).status_code == 422
    for cid in (setup.community_id, other.community_id):
        assert await count(db, "SELECT count(*) FROM ledger_transfers WHERE community_id = :c", c=cid) == 0
    # Another community's wallet is not readable.
    response = await client.get(
        f"/api/v1/me/wallet?community_id={other.community_id}", headers=setup.resident.headers
    )
    assert response.status_code == 403


async def test_transfers_are_signed_newest_first_and_paginated(client: Any, setup: Any) -> None:
    for i in range(5):
        assert (await _award(client, setup, 10 + i, f"p{i}", reason=f"event {i}")).status_code == 201
    deduct = await client.post(
        f"/api/v1/communities/{setup.community_id}/deductions",
        json={
            "user_id": setup.resident.user_id,
            "points": 7,
            "reason": "duplicate award",
            "idempotency_key": "d1",
        },
        headers=setup.admin.headers,
    )
    assert deduct.status_code == 201, deduct.text
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        url = f"/api/v1/me/transfers?community_id={setup.community_id}&limit=4"
        if cursor:
            url += f"&cursor={cursor}"
        page = (await client.get(url, headers=setup.resident.headers)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["amount"] for i in seen] == [-7, 14, 13, 12, 11, 10]
    assert seen[0]["memo"] == "duplicate award" and seen[0]["kind"] == "correction"
    assert [i["id"] for i in seen] == sorted((i["id"] for i in seen), reverse=True)


async def test_holds_post_void_and_reverse_over_api(client: Any, setup: Any, db: Any) -> None:
    base = f"/api/v1/communities/{setup.community_id}"
    award = await _award(client, setup, 10, "h0")
    hold = await client.post(
        f"{base}/holds",
        json={"user_id": setup.resident.user_id, "points": 8, "reason": "毛巾 x2", "idempotency_key": "h1"},
        headers=setup.admin.headers,
    )
    assert hold.status_code == 201, hold.text
    hold_id = hold.json()["hold_id"]
    too_much = await client.post(
        f"{base}/holds",
        json={"user_id": setup.resident.user_id, "points": 3, "reason": "more", "idempotency_key": "h2"},
        headers=setup.admin.headers,
    )
    assert too_much.status_code == 409 and too_much.json()["code"] == "insufficient_points"
    posted = await client.post(f"{base}/holds/{hold_id}/post", headers=setup.admin.headers)
    assert posted.status_code == 200
    voided = await client.post(
        f"{base}/holds/{hold_id}/void", json={"reason": "x"}, headers=setup.admin.headers
    )
    assert voided.status_code == 409 and voided.json()["code"] == "already_done"
    # Reversing the award now fails (points spent), reversing the purchase gives them back.
    rev = await client.post(
        f"{base}/transfers/{award.json()['transfer_id']}/reverse",
        json={"reason": "wrong person", "idempotency_key": "r1"},
        headers=setup.admin.headers,
    )
    assert rev.status_code == 409 and rev.json()["code"] == "insufficient_points"
    rev = await client.post(
        f"{base}/transfers/{posted.json()['transfer_id']}/reverse",
        json={"reason": "item was broken", "idempotency_key": "r2"},
        headers=setup.admin.headers,
    )
    assert rev.status_code == 201, rev.text
    wallet = (
        await client.get(
            f"/api/v1/me/wallet?community_id={setup.community_id}", headers=setup.resident.headers
        )
    ).json()
    assert (wallet["balance"], wallet["held"]) == (10, 0)
    assert (
        await count(
            db,
            "SELECT count(*) FROM audit_entries WHERE community_id = :c AND action = 'ledger.reverse'",
            c=setup.community_id,
        )
        == 1
    )


async def test_pages_wallet_statement_admin_and_check(client: Any, setup: Any, db: Any) -> None:
    await _award(client, setup, 12, "pg1", reason="居民恳谈日")
    await page_login(client, setup.resident)
    home = await client.get("/")
    assert f"/wallet?community_id={setup.community_id}" in home.text
    page = await client.get(f"/wallet?community_id={setup.community_id}")
    assert page.status_code == 200 and ">12<" in page.text
    page = await client.get(f"/wallet/statement?community_id={setup.community_id}")
    assert "居民恳谈日" in page.text and "+12" in page.text
    assert (await client.get(f"/admin/c/{setup.community_id}/ledger")).status_code == 403
    admin = setup.admin.headers
    page = await client.get(f"/admin/c/{setup.community_id}/ledger", headers=admin)
    assert page.status_code == 200 and "王阿姨" in page.text
    # Awarding from the page needs a reason; with one it is done and audited.
    form = {"action": "award", "user_id": str(setup.resident.user_id), "points": "5", "nonce": "n1"}
    response = await post_form(
        client, f"/admin/c/{setup.community_id}/ledger", {**form, "reason": ""}, headers=admin
    )
    assert response.status_code == 422
    response = await post_form(
        client, f"/admin/c/{setup.community_id}/ledger", {**form, "reason": "楼道清理"}, headers=admin
    )
    assert response.status_code == 303, response.text
    response = await post_form(
        client, f"/admin/c/{setup.community_id}/ledger", {**form, "reason": "楼道清理"}, headers=admin
    )
    assert response.status_code == 303  # a double submit awards once
    wallet = (
        await client.get(
            f"/api/v1/me/wallet?community_id={setup.community_id}", headers=setup.resident.headers
        )
    ).json()
    assert wallet["balance"] == 17
    assert (
        await count(
            db,
            "SELECT count(*) FROM audit_entries WHERE community_id = :c AND action = 'ledger.award'",
            c=setup.community_id,
        )
        == 2
    )
    page = await client.get(f"/admin/c/{setup.community_id}/ledger/verify", headers=admin)
    assert page.status_code == 200 and "result result-ok" in page.text


async def test_a_hold_past_its_time_is_not_posted(client: Any, setup: Any, db: Any) -> None:
    """A counter hold for a minute, posted two minutes later before the expiry job ran: it was
    posted (the points spent) though its time had passed and timeout voids it; now it is voided
    and the post is refused, the points back where they were."""
    base = f"/api/v1/communities/{setup.community_id}"
    assert (await _award(client, setup, 10, "e0")).status_code == 201
    hold = await client.post(
        f"{base}/holds",
        json={
            "user_id": setup.resident.user_id,
            "points": 8,
            "reason": "毛巾 x2",
            "idempotency_key": "e1",
            "expires_in_seconds": 60,
        },
        headers=setup.admin.headers,
    )
    assert hold.status_code == 201, hold.text
    hold_id = hold.json()["hold_id"]
    clock.advance(timedelta(minutes=2))
    try:
        posted = await client.post(f"{base}/holds/{hold_id}/post", headers=setup.admin.headers)
        assert posted.status_code == 409 and posted.json()["code"] == "already_done", posted.text
        again = await client.post(f"{base}/holds/{hold_id}/post", headers=setup.admin.headers)
        assert again.status_code == 409 and again.json()["code"] == "already_done"
    finally:
        clock.advance(-timedelta(minutes=2))
    wallet = (
        await client.get(
            f"/api/v1/me/wallet?community_id={setup.community_id}", headers=setup.resident.headers
        )
    ).json()
    assert (wallet["balance"], wallet["held"], wallet["available"]) == (10, 0, 10)
    assert await count(db, "SELECT count(*) FROM ledger_transfers WHERE hold_id = :h", h=hold_id) == 0
    assert (
        await count(db, "SELECT count(*) FROM ledger_holds WHERE id = :h AND status = 'voided'", h=hold_id)
        == 1
    )


@pytest.mark.parametrize("points", ["10", "7"])
async def test_a_refused_amount_is_told_in_the_admin_pages_words(
    client: Any, setup: Any, points: Any
) -> None:
    """The refusal said "积分须为 1 到 9007199254740991 之间的整数。", a JavaScript limit no
    person knows; it says the rule the admin's ledger page says, with the API's shape and code."""
    response = await _award(client, setup, points, "words")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and body["status_code"] == 422
    assert body["detail"] == "积分须为从 1 起的整数。"
