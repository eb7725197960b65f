"""The admin's and the street office's pages as drawn on a desk's screen (1280 px): tables of many
columns readable without breaking a word a character a line, charts of counts in whole steps."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.core.i18n import ELDER_COOKIE, LANG_COOKIE
from tests.browser.conftest import World, log_in

pytestmark = pytest.mark.browser

# Each header cell's and each button-in-a-cell's lines of text: how tall its text is, in lines of
# its own height.
LINES = """
() => [...document.querySelectorAll('table.list th, table.list td .button, table.list td summary')]
  .filter((el) => el.offsetParent !== null && el.textContent.trim())
  .map((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0);
    const tops = new Set(rects.map((r) => Math.round(r.top)));
    return [el.textContent.trim(), tops.size];
  })
"""


def _desk(browser: Any, world: World, lang: str) -> tuple[Any, Any]:
    host = world.url.split("//", 1)[1].split(":")[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [
            {"name": LANG_COOKIE, "value": lang, "domain": host, "path": "/"},
            {"name": ELDER_COOKIE, "value": "0", "domain": host, "path": "/"},
        ]
    )
    return context, context.new_page()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_wide_tables_keep_their_headers_and_buttons_whole_on_a_desk(
    world: World, browser: Any, lang: str
) -> None:
    """In the page's 760 px the street's table of communities (17 columns) broke its headers a
    character a line (积/分/过/期, 爱心超市兑换积分 over eight lines), the ledger's Reverse… button
    read 冲/正…, and a month's statements broke 积/分: on a desk such a page takes the room."""
    cid, sid = world.values["community_id"], world.values["street_id"]
    for role, paths in {
        "street_admin": [f"/street/{sid}/dashboard"],
        "admin": [f"/admin/c/{cid}/ledger", f"/circle/admin/c/{cid}/statements", f"/circle/admin/c/{cid}"],
    }.items():
        context, page = _desk(browser, world, lang)
        try:
            log_in(page, world, role)
            for path in paths:
                page.goto(world.url + path)
                lines = page.evaluate(LINES)
                assert len(lines) >= 5, path
                # Chinese headers of up to eight characters take at most two lines, English ones
                # ("Points spent at the love supermarket") at most four.
                most = 2 if lang == "zh" else 4
                assert [(text, n) for text, n in lines if n > most] == [], path
                assert page.evaluate("document.documentElement.scrollWidth") <= 1280, path
        finally:
            context.close()


def test_a_pages_forms_keep_a_forms_width_beside_a_wide_table(world: World, browser: Any) -> None:
    """The ledger's award form shares its page with the transfers' table: the page widened for the
    table, the form's fields stay at most a form's width."""
    context, page = _desk(browser, world, "zh")
    try:
        log_in(page, world, "admin")
        page.goto(f"{world.url}/admin/c/{world.values['community_id']}/ledger")
        widths = page.evaluate(
            "() => [...document.querySelectorAll('main form:not(td form)')]"
            ".map((f) => f.getBoundingClientRect().width)"
        )
        assert widths and max(widths) <= 730, widths
        table = page.evaluate("document.querySelector('table.list').getBoundingClientRect().width")
        assert table > 900, table
    finally:
        context.close()


def test_the_dashboards_count_charts_step_in_whole_numbers(world: World, browser: Any) -> None:
    """The wishes' states (1 or 2 of each) were drawn on an axis of 0, 0.5, 1, 1.5, 2: half a wish.
    The dashboard's own charts are checked, and one of counts 1 and 2 added to its page (the test
    district's counts are whatever the other tests left)."""
    context, page = _desk(browser, world, "zh")
    few = {"kind": "bar", "labels": ["A", "B"], "series": [{"name": "N", "values": [1, 2]}], "unit": ""}

    def add_a_chart_of_few(route: Any) -> None:
        answer = route.fetch()
        chart = f"<section><div class='chart' id='few' data-chart='{json.dumps(few)}'></div></section>"
        route.fulfill(response=answer, body=answer.text().replace("</main>", chart + "</main>"))

    try:
        log_in(page, world, "admin")
        page.route("**/dashboard", add_a_chart_of_few)
        page.goto(f"{world.url}/admin/c/{world.values['community_id']}/dashboard")
        page.wait_for_selector("#few[data-drawn]")
        ticks = page.evaluate(
            """() => [...document.querySelectorAll('[data-chart][data-drawn]')].map((el) => {
                 const model = echarts.getInstanceByDom(el).getModel();
                 const x = model.getComponent('xAxis', 0);
                 const axis = x.axis.type === 'value' ? x : model.getComponent('yAxis', 0);
                 const data = JSON.parse(el.getAttribute('data-chart'));
                 const whole = data.series.every((s) => s.values.every((v) => Number.isInteger(v)));
                 return [el.id || el.closest('section').querySelector('h2').textContent, whole,
                         axis.axis.scale.getTicks().map((t) => t.value)];
               })"""
        )
        counted = [(name, values) for name, whole, values in ticks if whole]
        assert len(counted) >= 3 and "few" in dict(counted), ticks
        assert [(name, values) for name, values in counted if any(v != int(v) for v in values)] == []
    finally:
        context.close()


def test_on_a_phone_the_streets_stacked_figures_say_their_units(world: World, browser: Any) -> None:
    """On a phone the street's table of communities stacks, each figure after its column's name:
    the page's script took those names from the header rows and wrote them over the cells' own,
    so once the units stood in a row of their own it read 志愿服务时长：0.0 where the page said
    志愿服务时长（小时）."""
    context, page = _desk(browser, world, "zh")
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        log_in(page, world, "street_admin")
        page.goto(world.url + f"/street/{world.values['street_id']}/dashboard")
        labels = page.evaluate(
            """() => [...document.querySelectorAll('section[aria-labelledby=by-community] tbody td')]
              .map((td) => getComputedStyle(td, '::before').content)"""
        )
        assert '"志愿服务时长（小时）："' in labels and '"活跃居民（人）："' in labels, labels[:17]
        assert '"发放积分："' in labels, labels[:17]
    finally:
        context.close()
