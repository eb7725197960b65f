"""Dates in a sentence as a phone draws them in 长辈版 (390 px): each date on one line, a narrow
line breaking around it and not at its dashes (2026-12- / 01)."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.i18n import ELDER_COOKIE, LANG_COOKIE
from tests.browser.conftest import World, log_in

pytestmark = pytest.mark.browser

# Each date (2026-12-01) in the paragraphs matched: how many lines its characters take.
DATE_LINES = """
(selector) => [...document.querySelectorAll(selector)].flatMap((p) => {
  const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.data.matchAll(/\\d{4}-\\d{2}-\\d{2}/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0);
      found.push([match[0], new Set(rects.map((r) => Math.round(r.top))).size]);
    }
  }
  return found;
})
"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dates_in_sentences_stay_whole_on_a_phone_in_elder_mode(
    world: World, browser: Any, lang: str
) -> None:
    """The dashboards', exports' and indicator report's period lines and the sign-up-for-someone
    page's date broke 2026-12- / 01 at 390 px in 长辈版."""
    cid, sid, eid = world.values["community_id"], world.values["street_id"], world.values["event_id"]
    host = world.url.split("//", 1)[1].split(":")[0]
    broken = []
    for role, paths in {
        "admin": [
            (f"/admin/c/{cid}/dashboard", "p.period-text"),
            (f"/admin/c/{cid}/indicators", "p.period-text"),
            (f"/admin/c/{cid}/exports", "p.period-text"),
            (f"/admin/c/{cid}/exports/runs/{world.values['run_id']}", "p.period-text"),
        ],
        "street_admin": [(f"/street/{sid}/dashboard", "p.period-text")],
        "volunteer": [(f"/events/{eid}/signup-for", "main h1 + p, .page h1 + p")],
    }.items():
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.add_cookies(
            [
                {"name": LANG_COOKIE, "value": lang, "domain": host, "path": "/"},
                {"name": ELDER_COOKIE, "value": "1", "domain": host, "path": "/"},
            ]
        )
        page = context.new_page()
        try:
            log_in(page, world, role)
            for path, selector in paths:
                answer = page.goto(world.url + path)
                assert answer is not None and answer.status == 200, path
                dates = page.evaluate(DATE_LINES, selector)
                assert dates, path
                broken += [(path, day, n) for day, n in dates if n != 1]
                assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        finally:
            context.close()
    assert broken == []
