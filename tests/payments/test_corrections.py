"""A contribution the admin recorded is corrected, never changed: the admin gives the right
amount and the reason after ticking the box, and a new row of the difference naming the entry is
recorded beside it (audited); the entry never stands for less than nothing, two corrections at
once take turns, and an online donation is refunded, not corrected."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.authz import Actor
from app.core.errors import DomainError
from app.payments import corrections
from tests.api.helpers import page_login, post_form
from tests.payments.conftest import Goal, wish_with_goal


async def _recorded(client: Any, goal: Goal, amount: str, name: str = "东街街道办事处") -> int:
    answer = await post_form(
        client,
        f"/payments/admin/wish/{goal.wish_id}/contributions",
        {"source": "government", "amount": amount, "name": name, "show_name": "1", "note": "专项资金"},
    )
    assert answer.status_code == 303, answer.text
    return await _last_id(client, goal)


async def _last_id(client: Any, goal: Goal) -> int:
    page = await client.get(f"/payments/admin/wish/{goal.wish_id}")
    return int(page.text.split('data-correct="')[1].split('"')[0])


async def _total(db: Any, goal: Goal) -> int:
    return int((await db.execute(text("SELECT funding_total('wish', :i)"), {"i": goal.wish_id})).scalar_one())


def _correct(client: Any, entry: int, **form: str) -> Any:
    return post_form(client, f"/payments/admin/contributions/{entry}/correct", form)


async def test_the_admin_corrects_an_entry_to_the_right_amount_with_a_reason(client, factory, db) -> None:
    goal = await wish_with_goal(client, factory, goal_cents=100_000)
    await page_login(client, goal.admin)
    entry = await _recorded(client, goal, "300")

    fixed = await _correct(client, entry, amount="30", reason="多打了一个零", confirm="1")
    assert fixed.status_code == 303 and fixed.headers["location"].endswith("done=corrected")
    assert await _total(db, goal) == 3_000
    row = (
        await db.execute(
            text(
                "SELECT amount_cents, source, note, corrects_id FROM funding_contributions "
                "WHERE corrects_id = :e"
            ),
            {"e": entry},
        )
    ).one()
    assert tuple(row) == (-27_000, "government", "多打了一个零", entry)
    audit = (
        await db.execute(
            text(
                "SELECT data FROM audit_entries "
                "WHERE action = 'payments.contribution_corrected' AND target = :t"
            ),
            {"t": f"wish:{goal.wish_id}"},
        )
    ).scalar_one()
    assert audit["from_cents"] == 30_000 and audit["to_cents"] == 3_000 and audit["reason"] == "多打了一个零"
    page = await client.get(f"/payments/admin/wish/{goal.wish_id}")
    assert "更正理由：多打了一个零" in page.text and "更正后为 30.00" in page.text
    assert "登记差额" not in page.text  # the page says what is true: a correction, not a difference
    correction = (
        await db.execute(text("SELECT id FROM funding_contributions WHERE corrects_id = :e"), {"e": entry})
    ).scalar_one()
    exported = await client.get(
        f"/admin/c/{goal.community_id}/exports/contributions.csv", headers={"Accept-Language": "en"}
    )
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    entry_at, corrects_at = rows[0].index("Entry number"), rows[0].index("Corrects entry")
    pairs = [(r[entry_at], r[corrects_at]) for r in rows[1:]]
    assert (str(entry), "") in pairs and (str(correction), str(entry)) in pairs

    # Corrected again, from what it stands for now; and to nothing: its giver is no longer named.
    again = await _correct(client, entry, amount="0", reason="款项未到账", confirm="1")
    assert again.status_code == 303
    assert await _total(db, goal) == 0
    public = await client.get(f"/fund/wish/{goal.wish_id}")
    assert "东街街道办事处" not in public.text


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"amount": "30", "reason": "多打了一个零"}, 422),  # the box not ticked
        ({"amount": "30", "reason": " ", "confirm": "1"}, 422),  # no reason
        ({"amount": "300", "reason": "核对无误", "confirm": "1"}, 422),  # what it already stands for
        ({"amount": "-5", "reason": "退回", "confirm": "1"}, 422),  # below nothing
        ({"amount": "三十", "reason": "多打了一个零", "confirm": "1"}, 422),
    ],
)
async def test_a_refused_correction_says_why_and_records_nothing(
    client, factory, db, form: dict[str, str], status: int
) -> None:
    goal = await wish_with_goal(client, factory)
    await page_login(client, goal.admin)
    entry = await _recorded(client, goal, "300")
    answer = await _correct(client, entry, **form)
    assert answer.status_code == status and 'role="alert"' in answer.text
    assert f'data-correct="{entry}" open' in answer.text  # its form stays open with what was typed
    assert await _total(db, goal) == 30_000


async def test_only_the_admin_corrects_and_a_correction_or_an_online_donation_is_not_corrected(
    client, factory, db, engine
) -> None:
    goal = await wish_with_goal(client, factory)
    await page_login(client, goal.admin)
    entry = await _recorded(client, goal, "300")
    assert (await _correct(client, entry, amount="30", reason="多打了一个零", confirm="1")).status_code == 303
    correction = (
        await db.execute(text("SELECT id FROM funding_contributions WHERE corrects_id = :e"), {"e": entry})
    ).scalar_one()
    assert (await _correct(client, correction, amount="0", reason="x", confirm="1")).status_code == 409
    async with async_sessionmaker(engine)() as s, s.begin():
        payment = (
            await s.execute(
                text(
                    "INSERT INTO payments (community_id, kind, target_kind, target_id, amount_cents, "
                    "currency, idempotency_key, status) "
                    "VALUES (:c, 'donation', 'wish', :w, 2000, 'cny', :k, 'paid') RETURNING id"
                ),
                {"c": goal.community_id, "w": goal.wish_id, "k": f"correction-test-{goal.wish_id}"},
            )
        ).scalar_one()
        online = (
            await s.execute(
                text(
                    "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, "
                    "amount_cents, payment_id) VALUES (:c, 'wish', :w, 'online', 2000, :p) RETURNING id"
                ),
                {"c": goal.community_id, "w": goal.wish_id, "p": payment},
            )
        ).scalar_one()
    assert (await _correct(client, online, amount="0", reason="x", confirm="1")).status_code == 409
    await page_login(client, goal.resident)
    assert (await _correct(client, entry, amount="0", reason="x", confirm="1")).status_code == 403
    assert await _total(db, goal) == 3_000 + 2_000


async def test_two_corrections_at_once_take_turns_and_the_entry_never_stands_for_less_than_nothing(
    client, factory, engine, db
) -> None:
    goal = await wish_with_goal(client, factory)
    await page_login(client, goal.admin)
    entry = await _recorded(client, goal, "300")
    admin = Actor(goal.admin.user_id, "管理员", {goal.community_id: frozenset({"admin"})})

    async def to_nothing(reason: str) -> str:
        async with async_sessionmaker(engine)() as s, s.begin():
            try:
                await corrections.correct_contribution(
                    s, admin, entry, amount_cents=0, reason=reason, address=None
                )
            except DomainError as exc:
                return exc.code
            return "ok"

    outcomes = await asyncio.gather(*(to_nothing(f"重复登记 {n}") for n in range(4)))
    assert sorted(outcomes) == ["ok", "validation_error", "validation_error", "validation_error"]
    assert await _total(db, goal) == 0


async def test_the_database_takes_a_negative_recorded_row_only_as_a_correction_with_a_reason(
    client, factory, db
) -> None:
    goal = await wish_with_goal(client, factory)
    insert = (
        "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents, "
        "note, corrects_id) VALUES (:c, 'wish', :w, 'government', -100, :note, :corrects)"
    )
    with pytest.raises(DBAPIError):
        await db.execute(
            text(insert), {"c": goal.community_id, "w": goal.wish_id, "note": "x", "corrects": None}
        )
    await db.rollback()
    await page_login(client, goal.admin)
    entry = await _recorded(client, goal, "300")
    with pytest.raises(DBAPIError):
        await db.execute(
            text(insert), {"c": goal.community_id, "w": goal.wish_id, "note": "", "corrects": entry}
        )
    await db.rollback()
