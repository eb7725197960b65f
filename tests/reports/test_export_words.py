"""Exports are written in the language of the admin who asks: the header, and the cells of a column
of codes (a wish's status and kind, a project's status, a category), in the words the pages use
for them. The store's and the service circle's statements are exports of the same registry: one
writer, one way of naming files."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock, exports
from app.core.i18n import translations
from app.domains import load_exports
from app.partners.forms import STATUS_LABELS as PROJECT_WORDS
from app.reports import exporting
from app.reports.models import ExportRun
from app.wishes.pages import ALL_STATUS_LABELS, KIND_LABELS
from tests.api.helpers import session_of
from tests.conftest import Factory, login

ZONE = "Asia/Shanghai"


def _sheet(body: bytes) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(body), read_only=True)
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


async def test_an_export_speaks_the_language_of_the_admin_who_asks(
    client: Any, factory: Factory, engine: Any
) -> None:
    tenant = await factory.tenant()
    cid = tenant.community_id
    admin = await login(client, tenant.admin)
    helper = await factory.person(tenant, name="志愿者")
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text(
                "INSERT INTO wishes (community_id, title, kind, beneficiary_id, status, claimed_by) VALUES"
                " (:c, '买菜', 'service', :b, 'claimed', :h),"
                " (:c, '台灯', 'item', :b, 'submitted', NULL)"
            ),
            {"c": cid, "b": helper.user_id, "h": helper.user_id},
        )
        await s.execute(
            text(
                "INSERT INTO projects (community_id, title, status, owner_user_id, due_on)"
                " VALUES (:c, '楼道清理', 'in_progress', :o, current_date)"
            ),
            {"c": cid, "o": tenant.admin.user_id},
        )
        await s.execute(
            text(
                "INSERT INTO needs (community_id, title, category)"
                " VALUES (:c, '陪诊', 'medical'), (:c, '修伞', '雨具')"
            ),
            {"c": cid},
        )
    today = clock.today(ZONE).isoformat()
    query = f"from={today}&to={today}"
    await session_of(client, admin)
    made: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for lang in ("en", "zh-Hans"):
        headers = {"Accept-Language": "en" if lang == "en" else "zh-CN"}
        made[lang] = {}
        for name in ("wishes", "projects", "needs"):
            answer = await client.get(f"/admin/c/{cid}/exports/{name}.xlsx?{query}", headers=headers)
            assert answer.status_code == 200, answer.text[:300]
            made[lang][name] = _sheet(answer.content)
    en, zh = made["en"], made["zh-Hans"]
    # The header in each language.
    assert en["wishes"][0][:4] == ("Number", "Wish", "Kind", "Status")
    assert zh["wishes"][0][:4] == ("编号", "心愿", "类型", "状态")
    # A wish's kind and status: the wishes' pages' words, never the stored code.
    by_title = {lang: {r[1]: r for r in made[lang]["wishes"][1:]} for lang in made}
    assert by_title["en"]["买菜"][2:4] == ("Service wish", "Taken up")
    assert by_title["en"]["台灯"][2:4] == ("Item wish", "Waiting for review")
    assert by_title["zh-Hans"]["买菜"][2:4] == ("服务心愿", "已认领")
    assert by_title["zh-Hans"]["台灯"][2:4] == ("物品心愿", "等待审核")
    zh_words = translations("zh")
    assert by_title["zh-Hans"]["买菜"][3] == zh_words.gettext(ALL_STATUS_LABELS["claimed"])
    assert by_title["zh-Hans"]["买菜"][2] == zh_words.gettext(KIND_LABELS["service"])
    # A project's status and a need's category likewise; a category typed by hand stays as typed.
    assert [r[2] for r in en["projects"][1:]] == ["In progress"]
    assert (
        [r[2] for r in zh["projects"][1:]] == [zh_words.gettext(PROJECT_WORDS["in_progress"])] == ["进行中"]
    )
    assert [r[2] for r in en["needs"][1:]] == ["Health and medical care", "雨具"]
    assert [r[2] for r in zh["needs"][1:]][1] == "雨具"
    assert [r[2] for r in zh["needs"][1:]][0] not in ("medical", "Health and medical care")
    # The CSV says the same words.
    body = (
        await client.get(f"/admin/c/{cid}/exports/wishes.csv?{query}", headers={"Accept-Language": "en"})
    ).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert {(r[1], r[2], r[3]) for r in rows[1:]} == {
        ("买菜", "Service wish", "Taken up"),
        ("台灯", "Item wish", "Waiting for review"),
    }
    # A run made by the job is written in the language of the admin who asked for it.
    async with async_sessionmaker(engine)() as s, s.begin():
        run_id = (
            await s.execute(
                text(
                    "INSERT INTO export_runs (community_id, user_id, name, fmt, first_day, last_day, lang,"
                    " status, attempts, heartbeat_at, filename, expires_at) VALUES (:c, :u, 'wishes', 'xlsx',"
                    " :d, :d, 'en', 'running', 1, now(), 'w.xlsx', now() + interval '1 day') RETURNING id"
                ),
                {"c": cid, "u": tenant.admin.user_id, "d": clock.today(ZONE)},
            )
        ).scalar_one()
    async with async_sessionmaker(engine)() as s:
        await exporting.make(s, engine, run_id)
    async with async_sessionmaker(engine)() as s:
        made = await s.get(ExportRun, run_id)
        assert made is not None and made.status == "done" and made.body is not None
        by_job = _sheet(made.body)
    assert by_job[0][:4] == ("Number", "Wish", "Kind", "Status")
    assert {(r[1], r[2], r[3]) for r in by_job[1:]} == {
        ("买菜", "Service wish", "Taken up"),
        ("台灯", "Item wish", "Waiting for review"),
    }


async def test_the_store_report_is_the_store_export_of_one_month(
    client: Any, factory: Factory, engine: Any
) -> None:
    tenant = await factory.tenant()
    cid = tenant.community_id
    admin = await login(client, tenant.admin)
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text(
                "INSERT INTO store_items (community_id, name, points_price, stock)"
                " VALUES (:c, '=肥皂', 5, 7), (:c, '毛巾', 9, 3)"
            ),
            {"c": cid},
        )
    month = clock.today(ZONE).replace(day=1)
    await session_of(client, admin)
    report = await client.get(
        f"/store/admin/c/{cid}/report.xlsx?month={month:%Y-%m}", headers={"Accept-Language": "en"}
    )
    assert report.status_code == 200, report.text[:300]
    disposition = report.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="c{cid}-store-{month.isoformat()}_')
    assert report.headers["content-type"] == exports.FORMATS["xlsx"]
    sheet = _sheet(report.content)
    assert sheet[0][:3] == ("Item", "Items ordered", "Of them picked up")
    assert [(r[0], r[10]) for r in sheet[1:]] == [("'=肥皂", 7), ("毛巾", 3)]
    # The same export, of the same month, from the exports page's link: the same file.
    last = disposition.rsplit("_", 1)[1].split(".")[0]
    same = await client.get(
        f"/admin/c/{cid}/exports/store.xlsx?from={month.isoformat()}&to={last}",
        headers={"Accept-Language": "en"},
    )
    assert _sheet(same.content) == sheet
    assert same.headers["content-disposition"] == disposition
    page = await client.get(f"/store/admin/c/{cid}/report")
    assert f"/store/admin/c/{cid}/report.xlsx?month=" in page.text
    listed = await client.get(f"/admin/c/{cid}/exports")
    assert "store.xlsx" in listed.text and "circle.xlsx" in listed.text


async def test_the_store_report_page_and_its_files_count_the_community_s_own_month(
    client: Any, factory: Factory, engine: Any
) -> None:
    tenant = await factory.tenant()
    cid = tenant.community_id
    admin = await login(client, tenant.admin)
    london = clock.zone("Europe/London")
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(text("UPDATE communities SET time_zone = 'Europe/London' WHERE id = :c"), {"c": cid})
        item_id = (
            await s.execute(
                text(
                    "INSERT INTO store_items (community_id, name, points_price, stock)"
                    " VALUES (:c, '雨伞', 5, 9) RETURNING id"
                ),
                {"c": cid},
            )
        ).scalar_one()
        # A restock on the evening of 31 October in London, which is already 1 November in China,
        # and one just after midnight on 1 November.
        await s.execute(
            text(
                "INSERT INTO store_stock_moves (community_id, item_id, delta, kind, created_at) VALUES"
                " (:c, :i, 4, 'restock', :october), (:c, :i, 5, 'restock', :november)"
            ),
            {
                "c": cid,
                "i": item_id,
                "october": datetime(2026, 10, 31, 20, 0, tzinfo=london),
                "november": datetime(2026, 11, 1, 0, 30, tzinfo=london),
            },
        )
    await session_of(client, admin)
    for month, restocked in (("2026-10", 4), ("2026-11", 5)):
        page = await client.get(
            f"/store/admin/c/{cid}/report?month={month}", headers={"Accept-Language": "en"}
        )
        assert page.status_code == 200
        cells = re.search(r"<td>雨伞</td>((?:<td[^>]*>\d+</td>)+)", page.text)
        assert cells is not None, page.text[-2000:]
        shown = [int(v) for v in re.findall(r">(\d+)<", cells.group(1))]
        assert shown[7] == restocked, (month, shown)
        body = (
            await client.get(
                f"/store/admin/c/{cid}/report.csv?month={month}", headers={"Accept-Language": "en"}
            )
        ).content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(body)))
        assert [int(v) for v in rows[1][1:]] == shown


async def test_the_store_report_and_the_circle_statements_taken_are_audited_as_exports(
    client: Any, factory: Factory, engine: Any
) -> None:
    """Each file taken from the store's report or the circle's statements page writes the audit
    entry an export taken from the exports page writes: who, which export, the period, the rows."""
    tenant = await factory.tenant()
    cid = tenant.community_id
    admin = await login(client, tenant.admin)
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text(
                "INSERT INTO store_items (community_id, name, points_price, stock) VALUES (:c, '香皂', 5, 7)"
            ),
            {"c": cid},
        )
    month = clock.today(ZONE).replace(day=1)
    await session_of(client, admin)
    taken = {}
    for url in (
        f"/store/admin/c/{cid}/report.csv?month={month:%Y-%m}",
        f"/circle/admin/c/{cid}/statements.xlsx?month={month:%Y-%m}",
        f"/admin/c/{cid}/exports/store.csv?from={month.isoformat()}",
    ):
        answer = await client.get(url)
        assert answer.status_code == 200, (url, answer.text[:300])
        taken[url] = re.search(r'filename="([^"]+)"', answer.headers["content-disposition"])[1]  # type: ignore[index]
    async with async_sessionmaker(engine)() as s:
        audited = (
            await s.execute(
                text(
                    "SELECT target, actor_id, data FROM audit_entries"
                    " WHERE action = 'reports.export' AND community_id = :c ORDER BY id"
                ),
                {"c": cid},
            )
        ).all()
    assert [a.target for a in audited] == list(taken.values())
    assert {a.actor_id for a in audited} == {tenant.admin.user_id}
    store, circle, _page = (a.data for a in audited)
    assert store["export"] == "store" and store["rows"] == 1 and store["first"] == month.isoformat()
    assert circle["export"] == "circle" and circle["rows"] == 0


async def test_a_month_that_is_none_is_refused_in_the_same_words_wherever_a_month_is_asked(
    client: Any, factory: Factory
) -> None:
    """The store's report, the circle's statements and the admin's ledger read a month by one rule
    (app.core.fields.month): the store's took 2026-3 as March and said otherwise 请选择月份 in
    words of its own."""
    tenant = await factory.tenant()
    cid = tenant.community_id
    await session_of(client, tenant.admin)
    words = "月份格式为YYYY-MM，例如2026-03。"
    for typed in ("2026-13", "2026-3", "三月"):
        store = await client.get(f"/store/admin/c/{cid}/report", params={"month": typed})
        assert store.status_code == 422 and words in store.text, typed
        circle = await client.get(f"/circle/admin/c/{cid}/statements.csv", params={"month": typed})
        assert circle.status_code == 422 and words in circle.text, typed
        ledger = await client.get(f"/admin/c/{cid}/ledger", params={"month": typed})
        assert ledger.status_code == 200 and words in ledger.text, typed


def test_every_column_of_hours_says_hours_in_chinese_too() -> None:
    """The partner agreements' file headed its hours 已完成志愿时长 and 承诺志愿时长, without the
    unit that the hours per person's columns say (期间时长（小时）): a column of hours in any
    export says 小时, and one of minutes 分钟."""
    load_exports()
    zh = translations("zh").gettext
    columns = [c.label for e in exports.registered() for c in e.columns]
    hours = [label for label in columns if "hours" in label.lower() and "minutes" not in label.lower()]
    assert "Volunteer hours done" in hours and "Hours in the period" in hours
    assert [zh(label) for label in hours if "（小时）" not in zh(label)] == []
    minutes = [label for label in columns if "minutes" in label.lower()]
    assert minutes and [zh(label) for label in minutes if "分钟" not in zh(label)] == []
