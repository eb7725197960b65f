"""The circle's log for the community admin (/circle/admin/c/{id}/log): a voucher bought for a
resident without a phone is audited, and the admin finds that entry on a page, in words, with who
bought it, for whom, what and when in the community's time; nobody else reads it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from app.circle import log
from app.core import clock
from tests.api.helpers import page_login
from tests.circle.conftest import Circle, give_points, make_offer
from tests.conftest import login
from tests.plans import nodes as plan_nodes


async def test_a_voucher_bought_for_a_resident_is_found_in_the_circle_log(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    visit = await make_offer(
        client, circle, circle.cleaner_id, name="上门保洁", home_visit=True, points_price=40
    )
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    made = await client.post(
        "/api/v1/vouchers",
        json={"offer_id": visit, "idempotency_key": "gw-log", "user_id": circle.resident.user_id},
        headers=circle.grid.headers,
    )
    assert made.status_code == 201, made.text
    at, zone = (
        await db.execute(
            text(
                "SELECT a.created_at, c.time_zone FROM audit_entries a "
                "JOIN communities c ON c.id = a.community_id "
                "WHERE a.action = 'circle.voucher_bought_for_resident' AND a.target = :t"
            ),
            {"t": f"circle_voucher:{made.json()['id']}"},
        )
    ).one()
    url = f"/circle/admin/c/{circle.community_id}/log"

    await page_login(client, circle.admin)
    overview = await client.get(f"/circle/admin/c/{circle.community_id}")
    assert f'href="{url}"' in overview.text  # reached from the circle's admin page
    page = await client.get(url, params={"kind": "for_residents"})
    assert page.status_code == 200, page.text
    entries = page.text.split("data-entry")[1:]
    assert len(entries) == 1, page.text
    entry = entries[0]
    assert "为居民代购服务券" in entry and "上门保洁" in entry
    assert circle.resident.display_name in entry and circle.grid.display_name in entry
    assert f'<span class="unbroken">{clock.text(at, zone)}</span>' in entry
    assert "circle.voucher" not in page.text  # words, not the action's code
    # Among everything else of the circle it is there too, and in English in English.
    assert "为居民代购服务券" in (await client.get(url)).text
    client.cookies.set("lang", "en")
    assert "Bought a voucher for a resident" in (await client.get(url)).text
    client.cookies.delete("lang")

    # The grid worker who bought it, and a resident, do not read the log.
    for person in (circle.grid, circle.resident):
        await page_login(client, await login(client, person))
        assert (await client.get(url)).status_code == 403


async def test_the_circle_log_is_paged_newest_first(client: Any, circle: Circle) -> None:
    for n in range(32):
        await make_offer(client, circle, name=f"服务{n:02d}", points_price=5)
    await page_login(client, circle.admin)
    url = f"/circle/admin/c/{circle.community_id}/log"
    first = await client.get(url, params={"kind": "setup"})
    assert "共32条记录。" in first.text and "第 1 页，共 2 页" in first.text, first.text
    assert first.text.count("data-entry") == 30
    assert first.text.index("服务31") < first.text.index("服务30")
    assert "kind=setup&amp;page=2" in first.text
    second = await client.get(url, params={"kind": "setup", "page": "2"})
    assert second.text.count("data-entry") == 2
    assert "服务01" in second.text and "服务00" in second.text and "服务31" not in second.text
    assert "还没有记录。" in (await client.get(url, params={"kind": "statements"})).text


async def test_the_circle_log_reads_no_audit_row_of_other_communities(db: Any, circle: Circle) -> None:
    """The view's redemptions are left out where an old audit row has them, asked of audit_entries
    by action and target: without the partial index of migration 0054 every read of the log read
    every audit row of every community (1.2 s a query with a million rows)."""
    await db.execute(
        text(
            "INSERT INTO audit_entries (community_id, actor_id, action, target, data, created_at) "
            "SELECT NULL, NULL, 'test.filler', 'filler:' || g, '{}'::jsonb, now() "
            "FROM generate_series(1, 20000) g"
        )
    )
    await db.execute(text("ANALYZE audit_entries"))
    try:
        for query, params in (
            (log._COUNT, {}),
            (log._PAGE, {"o": 0, "n": log.PER_PAGE}),
        ):
            plan = (
                await db.execute(
                    text("EXPLAIN (FORMAT JSON) " + query.text),
                    {"c": circle.community_id, "actions": list(log.actions_of("all")), **params},
                )
            ).scalar_one()
            scans = [
                n["Node Type"]
                for n in plan_nodes(plan[0]["Plan"])
                if n.get("Relation Name") == "audit_entries"
            ]
            assert scans and "Seq Scan" not in scans, scans
    finally:
        await db.execute(text("DELETE FROM audit_entries WHERE action = 'test.filler'"))
        await db.commit()
