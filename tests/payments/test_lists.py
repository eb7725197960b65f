"""The money pages' lists reach every row: a goal's contributions and the community's goals are
paged with their count (a goal's page stopped at its newest 1,000 entries and the goals page at the
newest 500 wishes and 500 projects, without a word), and the export of every contribution names
the goal of each row, however many goals the community has."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from sqlalchemy import text

from app.payments import admin_pages, contributions
from tests.api.helpers import session_of
from tests.payments.conftest import wish_with_goal


async def _contributions(
    db: Any, community_id: int, wish_id: int, names: list[str], shown: bool = False
) -> None:
    for n, name in enumerate(names):
        await db.execute(
            text(
                "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, "
                "amount_cents, name, show_name, created_at) VALUES (:c, 'wish', :w, 'residents', 100, "
                ":name, :shown, now() - make_interval(mins => :age))"
            ),
            {"c": community_id, "w": wish_id, "name": name, "shown": shown, "age": len(names) - n},
        )
    await db.commit()


async def _wishes_with_goals(db: Any, community_id: int, beneficiary: int, titles: list[str]) -> None:
    """Wishes with funding goals, the first the oldest."""
    await db.execute(
        text(
            "INSERT INTO wishes (community_id, title, beneficiary_id, status, funding_goal_cents, "
            "created_at) SELECT :c, t.title, :b, 'published', 10000, "
            "now() - make_interval(mins => CAST(:n - t.i AS integer)) "
            "FROM unnest(CAST(:titles AS text[])) WITH ORDINALITY AS t(title, i)"
        ),
        {"c": community_id, "b": beneficiary, "titles": titles, "n": len(titles)},
    )
    await db.commit()


async def test_a_goals_contributions_are_paged_with_their_count(
    client: Any, factory: Any, db: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(admin_pages, "LINES_PAGE", 2)
    goal = await wish_with_goal(client, factory)
    names = [f"捐助人{n}" for n in range(5)]
    await _contributions(db, goal.community_id, goal.wish_id, names)
    await session_of(client, goal.admin)
    seen: list[str] = []
    for number in (1, 2, 3):
        whole = (await client.get(f"/payments/admin/wish/{goal.wish_id}?page={number}")).text
        page = whole[whole.index('id="listed"') :]  # the list, not the givers named above it
        assert "记录：5 条，最新的在前。" in page and f"第 {number} 页，共 3 页" in page
        seen += sorted((name for name in names if name in page), key=page.index)
    assert seen == names[::-1]  # each once, the newest first
    english = (
        await client.get(f"/payments/admin/wish/{goal.wish_id}?page=2", headers={"Accept-Language": "en"})
    ).text
    assert (
        "Entries: 5" in english and 'href="?page=1#listed"' in english and 'href="?page=3#listed"' in english
    )


async def test_the_goals_page_is_paged_with_its_count(
    client: Any, factory: Any, db: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(admin_pages, "GOALS_PAGE", 2)
    goal = await wish_with_goal(client, factory)
    titles = [f"心愿目标{n}" for n in range(4)]
    await _wishes_with_goals(db, goal.community_id, goal.resident.user_id, titles)
    await db.execute(text("UPDATE wishes SET created_at = now() WHERE id = :w"), {"w": goal.wish_id})
    await db.commit()
    await session_of(client, goal.admin)
    every = ["楼道扶手", *titles[::-1]]  # the newest first (those inserted are dated before it)
    seen: list[str] = []
    for number in (1, 2, 3):
        page = (await client.get(f"/payments/admin/c/{goal.community_id}?page={number}")).text
        assert "目标：5 个" in page and f"第 {number} 页，共 3 页" in page
        seen += sorted((t for t in every if re.search(rf">{t}</a>", page)), key=page.index)
    assert seen == every  # each once


async def test_the_contributions_export_names_the_goal_of_every_row(
    client: Any, factory: Any, db: Any
) -> None:
    """Past 500 wishes with a goal, the export's rows for the older ones had no title."""
    goal = await wish_with_goal(client, factory)
    await db.execute(
        text("UPDATE wishes SET created_at = now() - interval '1 year' WHERE id = :w"), {"w": goal.wish_id}
    )  # the oldest of them
    titles = [f"心愿目标{n}" for n in range(520)]
    await _wishes_with_goals(db, goal.community_id, goal.resident.user_id, titles)
    await _contributions(db, goal.community_id, goal.wish_id, ["老街坊"])
    await session_of(client, goal.admin)
    answer = await client.get(f"/admin/c/{goal.community_id}/exports/contributions.csv")
    assert answer.status_code == 200, answer.text[:300]
    rows = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert [r[2:4] for r in rows[1:]] == [[str(goal.wish_id), "楼道扶手"]]


async def test_the_refunds_stripe_refused_are_paged_with_their_count(
    client: Any, factory: Any, db: Any, monkeypatch: Any
) -> None:
    """The list of refused refunds stopped at the latest 200 without a word."""
    monkeypatch.setattr(admin_pages, "REFUSED_PAGE", 2)
    goal = await wish_with_goal(client, factory)
    made = []
    for n in range(3):
        made.append(
            (
                await db.execute(
                    text(
                        "INSERT INTO payments (community_id, kind, target_kind, target_id, amount_cents, "
                        "currency, status, idempotency_key, refund_refused_at, refund_refusal) VALUES "
                        "(:c, 'donation', 'wish', :w, 500, 'cny', 'paid', :k, "
                        "now() - make_interval(mins => :n), :why) RETURNING id"
                    ),
                    {
                        "c": goal.community_id,
                        "w": goal.wish_id,
                        "k": f"refused-{n}",
                        "n": 3 - n,
                        "why": f"拒绝{n}",
                    },
                )
            ).scalar_one()
        )
    await db.commit()
    await session_of(client, goal.admin)
    seen: list[int] = []
    for number in (1, 2):
        page = (await client.get(f"/payments/admin/c/{goal.community_id}?refused={number}")).text
        assert "被拒绝的退款：3 笔" in page and f"第 {number} 页，共 2 页" in page
        seen += [int(i) for i in re.findall(r'data-refused-payment="(\d+)"', page)]
    assert seen == made[::-1]  # each once, the latest first


async def test_the_funding_box_says_how_many_more_gave_past_the_names_it_shows(
    client: Any, factory: Any, db: Any, monkeypatch: Any
) -> None:
    """The box named the first 50 givers and stopped there without a word."""
    monkeypatch.setattr(contributions, "NAMES_SHOWN", 2)
    goal = await wish_with_goal(client, factory)
    await _contributions(db, goal.community_id, goal.wish_id, ["老王", "老李", "老张"], shown=True)
    await session_of(client, goal.admin)
    page = (await client.get(f"/payments/admin/wish/{goal.wish_id}")).text
    assert "老王、老李 等另外 1 位" in page
