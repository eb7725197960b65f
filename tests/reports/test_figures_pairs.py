"""Figures that a street office reads in two places, built across the edges where they used to part:
each pair either counts the same thing and agrees, or is named for what it counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from app.core import clock, exports, figures
from app.core.figures import Scope
from app.core.i18n import translations
from app.places.models import Community
from app.reports.services import figures_of
from tests.api.helpers import page_login


async def test_wishes_come_true_in_the_period_and_wishes_posted_in_it_are_named_apart(
    client: Any, site: Any, db: Any
) -> None:
    """A wish posted at 23:30 on the last day of a month (Fuzhou) and come true in the next: the
    next month's tile counts it, the next month's breakdown of the wishes posted does not. The two
    read "已圆梦心愿" and "已圆梦" side by side."""
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    community = await db.get(Community, cid)
    assert community is not None
    zone = community.time_zone
    today = clock.today(zone)
    first = today.replace(day=1)
    posted = datetime(first.year, first.month, first.day, tzinfo=clock.zone(zone)) - timedelta(minutes=30)
    await db.execute(
        text(
            "INSERT INTO wishes (community_id, title, beneficiary_id, status, claimed_by, claimed_at, "
            "created_at, delivered_at) VALUES (:c, '修插座', :u, 'delivered', :by, :now, :posted, :now)"
        ),
        {"c": cid, "u": alice.user_id, "by": tenant.admin.user_id, "posted": posted, "now": clock.now()},
    )
    await db.commit()
    this_month = (await figures_of(db, [community], first, today))[0]
    month_before = (
        await figures_of(
            db, [community], posted.astimezone(clock.zone(zone)).date(), first - timedelta(days=1)
        )
    )[0]
    assert this_month.count("wishes_delivered") == 1 and this_month.breakdown("wishes")["delivered"] == 0
    assert month_before.count("wishes_delivered") == 0 and month_before.breakdown("wishes")["delivered"] == 1
    tile, breakdown = figures.get("wishes_delivered"), figures.get("wishes")
    assert tile is not None and breakdown is not None
    zh = translations("zh").gettext
    assert "in period" in tile.label and "期" in zh(tile.label)
    assert "posted" in breakdown.label and "提交" in zh(breakdown.label)
    assert tile.note and "whenever they were posted" in tile.note
    await page_login(client, admin)
    for language, words in (("en", tile.label), ("zh", zh(tile.label))):
        page = await client.get(f"/admin/c/{cid}/dashboard", headers={"Accept-Language": language})
        assert words in page.text, language


async def test_the_points_statements_add_up_to_the_dashboards_points(reports_town: Any, db: Any) -> None:
    """The points statement per resident and the dashboard's points of the same days: the wallets'
    points in less points out, over every resident, are the points issued less spent and expired
    (an award, a deduction, a pickup and the town's other moves)."""
    town = reports_town
    community = await db.get(Community, town.community_id)
    assert community is not None
    shown = (await figures_of(db, [community], town.first, town.last))[0]
    statement = exports.find("statements")
    assert statement is not None
    rows = await statement.fn(db, Scope(town.community_id, town.first, town.last, community.time_zone))
    moved = sum(row[3] - row[4] for row in rows)
    assert shown.count("points_issued") > 0 and shown.count("points_spent") > 0
    assert moved == shown.count("points_issued") - shown.count("points_spent") - shown.count("points_expired")
    assert all(row[2] + row[3] - row[4] == row[5] for row in rows)
