"""The dashboards show the numbers the stats API answers (one function computes both), which are
the sums the test made; the street admin drills down into each community read-only, and every
link of the street's pages leads somewhere."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from app.core import clock
from tests.api.helpers import session_of
from tests.reports.conftest import Town

FIGURE = re.compile(r'data-figure="(\w+)" data-value="([^"]*)"')
CHART = re.compile(r'data-chart="([^"]*)"')
LINK = re.compile(r'href="(/[^"#]*)"')


def _page_figures(text: str) -> dict[str, float]:
    return {name: float(value) for name, value in FIGURE.findall(text)}


def _charts(text: str) -> list[dict[str, Any]]:
    return [json.loads(html.unescape(raw)) for raw in CHART.findall(text)]


async def test_community_dashboard_shows_what_the_api_answers(client: Any, reports_town: Town) -> None:
    town = reports_town
    api = (
        await client.get(
            f"/api/v1/communities/{town.community_id}/stats?{town.query}", headers=town.admin.headers
        )
    ).json()
    await session_of(client, town.admin)
    page = await client.get(f"/admin/c/{town.community_id}/dashboard?{town.query}")
    assert page.status_code == 200, page.text
    shown = _page_figures(page.text)
    counts = {k: v for k, v in api["figures"].items() if isinstance(v, int | float)}
    assert shown == {k: float(v) for k, v in counts.items()}
    for name in ("points_issued", "volunteer_hours", "events", "attendance", "active_residents"):
        assert shown[name] == town.expected[name]
    # The hours by category drawn as a chart carry the same numbers (and its table below it).
    hours = next(c for c in _charts(page.text) if len(c["labels"]) == 5 and c["unit"] in ("小时", "hours"))
    assert sorted(hours["series"][0]["values"]) == sorted(town.expected["hours_by_category"].values())


async def test_street_admin_drills_down_read_only_and_every_link_leads_somewhere(
    client: Any, reports_town: Town
) -> None:
    town = reports_town
    await session_of(client, town.street_admin)
    street = await client.get(f"/street/{town.tenant.street_id}/dashboard?{town.query}")
    assert street.status_code == 200, street.text
    assert _page_figures(street.text)["points_issued"] == town.expected["points_issued"]
    community = await client.get(f"/admin/c/{town.community_id}/dashboard?{town.query}")
    assert community.status_code == 200 and "只读" in community.text
    assert '<form method="post"' not in community.text.split("<main", 1)[1]
    for path in (f"/street/{town.tenant.street_id}", f"/street/{town.tenant.street_id}/dashboard"):
        text = (await client.get(path)).text
        for link in sorted(set(LINK.findall(html.unescape(text)))):
            if link.startswith("/static/"):
                continue
            answer = await client.get(link)
            assert answer.status_code == 200, (path, link, answer.status_code)


async def test_indicator_report_compares_with_the_period_before(client: Any, reports_town: Town) -> None:
    town = reports_town
    await session_of(client, town.admin)
    page = await client.get(f"/admin/c/{town.community_id}/indicators?{town.query}")
    assert page.status_code == 200, page.text
    assert "/static/reports.css" in page.text and "data-print" in page.text
    assert f"{town.expected['points_issued']:,}" in page.text


async def test_a_bad_period_on_the_page_is_said_in_words(client: Any, reports_town: Town) -> None:
    town = reports_town
    await session_of(client, town.admin)
    page = await client.get(f"/admin/c/{town.community_id}/dashboard?from=2026-02-31")
    assert page.status_code == 422
    assert "请按 2026-03-01 的格式填写日期。" in page.text and 'role="alert"' in page.text


async def test_others_cannot_open_the_dashboards(client: Any, reports_town: Town) -> None:
    town = reports_town
    await session_of(client, town.resident)
    assert (await client.get(f"/admin/c/{town.community_id}/dashboard")).status_code == 403
    assert (await client.get(f"/street/{town.tenant.street_id}/dashboard")).status_code == 404


async def test_the_home_pages_link_to_the_dashboards_and_the_wall(client: Any, reports_town: Town) -> None:
    town = reports_town
    await session_of(client, town.admin)
    home = (await client.get("/")).text
    for path in ("dashboard", "indicators", "wall"):
        assert f'href="/admin/c/{town.community_id}/{path}"' in home, path
    assert f'href="/c/{town.community_id}/wall"' in home
    await session_of(client, town.street_admin)
    home = (await client.get("/")).text
    assert f'href="/street/{town.tenant.street_id}/dashboard"' in home
    street = (await client.get(f"/street/{town.tenant.street_id}")).text
    assert f'href="/street/{town.tenant.street_id}/dashboard"' in street


async def test_a_columns_unit_is_said_once_and_in_full_width_brackets(
    client: Any, reports_town: Town
) -> None:
    """The points chart's table read "发放积分 (积分)": the unit said twice, in half-width brackets
    among Chinese. A name that says its unit stands alone, other units go in （）, and the
    English page keeps its own brackets."""
    town = reports_town
    await session_of(client, town.admin)
    zh = (await client.get(f"/admin/c/{town.community_id}/dashboard?{town.query}")).text
    heads = re.findall(r'<th scope="col">([^<]*)</th>', zh)
    assert "发放积分" in heads and not [h for h in heads if "(" in h or "积分（积分）" in h]
    captions = re.findall(r"<caption[^>]*>([^<]*)</caption>", zh)
    assert "各类志愿服务时长（小时）" in captions and not [c for c in captions if "(" in c]
    report = (await client.get(f"/admin/c/{town.community_id}/indicators?{town.query}")).text
    rows = "".join(re.findall(r'<td class="row-title">(.*?)</td>', report))
    assert "（小时）" in rows and "(" not in rows
    # No space before the full-width bracket, which has its own (志愿服务时长 （小时） read gapped).
    assert '<span class="muted">（小时）</span>' in rows and " <span" not in rows
    en = (
        await client.get(
            f"/admin/c/{town.community_id}/dashboard?{town.query}", headers={"Accept-Language": "en"}
        )
    ).text
    assert "Points issued" in re.findall(r'<th scope="col">([^<]*)</th>', en)


async def test_the_line_over_time_stops_at_today(client: Any, reports_town: Town, db: Any) -> None:
    """On the morning of a half month's first day the report's line of points issued and spent
    fell to 0 over the fourteen days still to come, as if nothing would happen in them."""
    town = reports_town
    zone = (
        await db.execute(text("SELECT time_zone FROM communities WHERE id = :c"), {"c": town.community_id})
    ).scalar_one()
    today = clock.today(zone)
    period = f"from={today - timedelta(days=2)}&to={today + timedelta(days=5)}"
    for who, path in (
        (town.admin, f"/admin/c/{town.community_id}/dashboard"),
        (town.admin, f"/admin/c/{town.community_id}/indicators"),
        (town.street_admin, f"/street/{town.tenant.street_id}/dashboard"),
    ):
        await session_of(client, who)
        page = await client.get(f"{path}?{period}")
        assert page.status_code == 200, page.text
        lines = [c for c in _charts(page.text) if c["kind"] == "line"]
        assert lines, path
        for line in lines:
            assert line["labels"][-1] == today.isoformat(), (path, line["labels"])
            assert line["labels"][0] == (today - timedelta(days=2)).isoformat(), path


async def test_a_whole_month_on_the_indicator_report_is_compared_with_the_month_before(
    client: Any, reports_town: Town
) -> None:
    """March was compared with 29 January to 28 February (as many days before it), and a leap year
    with a period that began on 31 December: whole months are compared with as many whole months."""
    town = reports_town
    await session_of(client, town.admin)
    for asked, before in (
        ("from=2027-03-01&to=2027-03-31", "2027-02-01 to 2027-02-28"),
        ("from=2028-02-01&to=2028-02-29", "2028-01-01 to 2028-01-31"),
        ("from=2028-01-01&to=2028-12-31", "2027-01-01 to 2027-12-31"),
        ("from=2027-04-01&to=2027-06-30", "2027-01-01 to 2027-03-31"),
        ("from=2027-03-03&to=2027-03-09", "2027-02-24 to 2027-03-02"),
    ):
        page = await client.get(
            f"/admin/c/{town.community_id}/indicators?{asked}", headers={"Accept-Language": "en"}
        )
        assert page.status_code == 200, page.text
        # The words as read: each date is marked up to stay whole on a narrow line.
        words = re.sub(r"<[^>]+>", "", page.text)
        assert f"Compared with {before}." in words, (asked, before)


def _street_units(table: str) -> dict[str, str]:
    """The street's table of communities: each figure's column name and the unit under it (the
    table's two header rows, the community's column apart)."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("</thead>", 1)[0], re.S)
    names, units = (re.findall(r'<th scope="col">([^<]*)</th>', row)[1:] for row in rows[:2])
    assert len(names) == len(units), (names, units)
    return dict(zip(names, units, strict=True))


async def test_the_street_tables_columns_say_their_units(client: Any, reports_town: Town) -> None:
    """The street dashboard's table of communities gave 志愿服务时长 as a bare number beside counts
    of people and events; each column's unit stands under its name (小时 under 志愿服务时长), and a
    cell stacked on a phone says 志愿服务时长（小时）, while 发放积分 already says its unit."""
    town = reports_town
    await session_of(client, town.street_admin)
    zh = (await client.get(f"/street/{town.tenant.street_id}/dashboard?{town.query}")).text
    table = zh.split('id="by-community"', 1)[1].split("</table>", 1)[0]
    units = _street_units(table)
    assert units["志愿服务时长"] == "小时" and units["发放积分"] == "积分"
    assert 'data-label="志愿服务时长（小时）"' in table and 'data-label="发放积分"' in table


async def test_a_csv_export_names_its_character_set_once(client: Any, reports_town: Town) -> None:
    """A CSV file came as "text/csv; charset=utf-8; charset=utf-8": the framework adds the
    character set to a text type, and the export named it too."""
    town = reports_town
    await session_of(client, town.admin)
    answer = await client.get(f"/admin/c/{town.community_id}/exports/hours.csv?{town.query}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"


STAT = re.compile(r'<div class="stat">(.*?)</div>', re.S)


async def test_every_number_on_the_dashboards_says_its_unit(client: Any, reports_town: Town) -> None:
    """Points and hours said their unit while the counts beside them stood bare (活跃居民 3, 举办活动
    2): each count says what it counts, under its tile (3 人, 2 场) and in the street's and the
    report's columns (活跃居民（人）), while the public wall already said 个 under its wishes."""
    town = reports_town
    await session_of(client, town.admin)
    zh = (await client.get(f"/admin/c/{town.community_id}/dashboard?{town.query}")).text
    tiles = STAT.findall(zh.split('id="key-figures"', 1)[1])
    assert len(tiles) >= 15 and all('<span class="muted">' in tile for tile in tiles), tiles
    assert re.search(r'data-figure="events"[^>]*>\d+</strong>\s*<span class="muted">场</span>', zh)
    assert re.search(r'data-figure="attendance"[^>]*>\d+</strong>\s*<span class="muted">人次</span>', zh)
    report = (await client.get(f"/admin/c/{town.community_id}/indicators?{town.query}")).text
    main = report.split('id="indicators"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<td class="row-title">(.*?)</td>', main)
    # A name that says its unit stands alone (发放积分, 已领取订单: 单).
    bare = [row for row in rows if '<span class="muted">' not in row]
    assert len(rows) >= 15 and all("积分" in row or "订单" in row for row in bare), bare
    assert '活跃居民<span class="muted">（人）</span>' in "".join(rows)
    en = (
        await client.get(
            f"/admin/c/{town.community_id}/dashboard?{town.query}", headers={"Accept-Language": "en"}
        )
    ).text
    assert re.search(
        r'data-figure="active_residents"[^>]*>\d+</strong>\s*<span class="muted">people</span>', en
    )
    await session_of(client, town.street_admin)
    street = (await client.get(f"/street/{town.tenant.street_id}/dashboard?{town.query}")).text
    units = _street_units(street.split('id="by-community"', 1)[1].split("</table>", 1)[0])
    assert len(units) >= 15 and "—" not in units.values(), units
    assert units["签到情况"] == "人次" and units["服务券核销"] == "张"
