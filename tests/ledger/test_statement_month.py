"""A resident's points statement reaches a month: its lines counted and paged by number
(app.core.paging), as the admin's ledger does, where the newest-first list paged by key was the
only way, and last month's points were many "older" pages away."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from app.core import clock
from app.core.uow import connection_of
from app.ledger import pages as ledger_pages
from app.ledger import services as ledger


def _award(c: int, u: int, points: int, key: str) -> dict[str, Any]:
    return {
        "community_id": c,
        "user_id": u,
        "points": points,
        "kind": "award",
        "reference": "t",
        "memo": f"帮忙{points}",
        "actor_id": None,
        "idempotency_key": key,
    }


async def test_my_statement_shows_one_month_counted_a_page_at_a_time(
    client: Any, site: Any, db: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(ledger_pages, "STATEMENT_PAGE", 2)
    tenant, _admin, alice, _bob = site
    c, u = tenant.community_id, alice.user_id
    await db.execute(text("UPDATE communities SET time_zone = 'Asia/Shanghai' WHERE id = :c"), {"c": c})
    # Three awards in one month, then two in the next, at noon in Fuzhou.
    first = clock.now().replace(day=10, hour=4, minute=0, second=0, microsecond=0) + timedelta(days=40)
    moved = timedelta(0)
    try:
        for n, days in enumerate((0, 1, 2, 30, 31)):
            step = first + timedelta(days=days) - clock.now()
            clock.advance(step)
            moved += step
            await ledger.award(await connection_of(db), **_award(c, u, 11 + n, f"m-{c}-{n}"))
        await db.commit()
        month = clock.month_text(clock.local(first, "Asia/Shanghai").date())
        seen: list[str] = []
        for number in (1, 2):
            page = await client.get(
                f"/wallet/statement?community_id={c}&month={month}&page={number}", headers=alice.headers
            )
            assert page.status_code == 200, page.text
            assert (
                f"{month}：共 3 条记录，最新的在前。" in page.text and f"第 {number} 页，共 2 页" in page.text
            )
            memos = [memo for memo in ("帮忙11", "帮忙12", "帮忙13", "帮忙14", "帮忙15") if memo in page.text]
            seen += sorted(memos, key=page.text.index)
            assert 'name="month"' in page.text and f'value="{month}"' in page.text
        assert seen == ["帮忙13", "帮忙12", "帮忙11"]  # the month's own, each once, newest first
        assert (
            f'href="?community_id={c}&amp;month={month}&amp;page=2#lines"'
            in (
                await client.get(f"/wallet/statement?community_id={c}&month={month}", headers=alice.headers)
            ).text
        )
        wrong = await client.get(f"/wallet/statement?community_id={c}&month=2026-13", headers=alice.headers)
        assert wrong.status_code == 200 and "2026-03" in wrong.text and 'value="2026-13"' in wrong.text
        empty = await client.get(
            f"/wallet/statement?community_id={c}&month=2001-01",
            headers={**alice.headers, "Accept-Language": "en"},
        )
        assert "No points moved in 2001-01." in empty.text
    finally:
        clock.advance(-moved)
