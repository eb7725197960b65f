"""The goals page reads the progress of the goals it shows in a fixed number of statements, however
many goals the page holds (it sent two per goal: 60 more for a full page of 30)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.payments import contributions, targets
from tests.api.helpers import page_login
from tests.statements import logged, page_statements, reads_no_more_with_more_rows


async def _goals(engine: Any, community_id: int, beneficiary: int, first: int, count: int) -> None:
    """`count` wishes with a goal of 1,000 yuan, each given 100 yuan by the government (shown by
    name) and n yuan by a partner unit (not shown)."""
    async with async_sessionmaker(engine)() as s, s.begin():
        for n in range(first, first + count):
            wish_id = (
                await s.execute(
                    text(
                        "INSERT INTO wishes (community_id, title, beneficiary_id, status, "
                        "funding_goal_cents) VALUES (:c, :t, :b, 'published', 100000) RETURNING id"
                    ),
                    {"c": community_id, "t": f"心愿{n}", "b": beneficiary},
                )
            ).scalar_one()
            await s.execute(
                text(
                    "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, "
                    "amount_cents, name, show_name) VALUES "
                    "(:c, 'wish', :w, 'government', 10000, :name, true), "
                    "(:c, 'wish', :w, 'partner', :n, '某单位', false)"
                ),
                {"c": community_id, "w": wish_id, "name": f"街道{n}", "n": (n + 1) * 100},
            )


async def test_the_goals_page_reads_as_much_with_30_goals_as_with_3(app, client, factory, engine, db):
    tenant = await factory.tenant()
    resident = await factory.person(tenant)
    await page_login(client, tenant.admin)
    path = f"/payments/admin/c/{tenant.community_id}"

    await _goals(engine, tenant.community_id, resident.user_id, 0, 3)
    await client.get(path)  # the actor's session, cached from here on, as on any later page
    with page_statements(app) as few:
        page = await client.get(path)
        await logged(few)
    assert page.status_code == 200, page.text
    assert len(re.findall(r'href="/payments/admin/wish/\d+"', page.text)) == 3

    await _goals(engine, tenant.community_id, resident.user_id, 3, 27)
    with page_statements(app) as many:
        page = await client.get(path)
        await logged(many)
    assert page.status_code == 200, page.text
    assert len(re.findall(r'href="/payments/admin/wish/\d+"', page.text)) == 30
    reads_no_more_with_more_rows(few, many)

    # Each goal's figures are its own: 100 yuan and (n + 1) yuan of 1,000; the first has 52 more
    # givers by name, past the 50 a box names.
    assert "101.00" in page.text and "130.00" in page.text
    shown = await targets.with_goal(db, tenant.community_id)
    first = min(shown, key=lambda t: t.id)
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text(
                "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, "
                "amount_cents, name, show_name, created_at) SELECT :c, 'wish', :w, 'partner', 100, "
                "'邻居' || g, true, now() + g * interval '1 second' FROM generate_series(1, 52) g"
            ),
            {"c": tenant.community_id, "w": first.id},
        )
    together = await contributions.progress_of_page(db, shown)
    one_by_one = [await contributions.progress(db, target) for target in shown]
    assert together == one_by_one
    by_target = dict(zip(shown, together, strict=True))
    assert len(by_target[first].names) == 50 and by_target[first].more_names == 3
    assert by_target[first].names[:2] == ["街道0", "邻居1"]
    others = {t: p for t, p in by_target.items() if t != first}
    assert {p.total_cents for p in others.values()} == {10000 + (n + 1) * 100 for n in range(1, 30)}
    assert all(p.names == [f"街道{t.title.removeprefix('心愿')}"] for t, p in others.items())
