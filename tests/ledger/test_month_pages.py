"""The admin's ledger reaches a month: its transfers counted and paged by number (app.core.paging),
where the newest-first list paged by key said neither how many there were nor how far back a page
was, and a month ago was many "older" pages away."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from app.core import clock
from app.ledger import pages as ledger_pages
from tests.api.helpers import page_login, post_form


@pytest.fixture
def moved_clock() -> Iterator[Any]:
    yield clock
    clock.reset()


async def _award(client: Any, setup: Any, points: int, nonce: str) -> int:
    form = {
        "action": "award",
        "user_id": str(setup.resident.user_id),
        "points": str(points),
        "reason": "楼道清理",
        "nonce": nonce,
    }
    done = await post_form(client, f"/admin/c/{setup.community_id}/ledger", form)
    assert done.status_code == 303, done.text
    return int(done.headers["location"].rsplit("t=", 1)[1])


def _listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-reverse="(\d+)"', page)]


async def test_the_admins_ledger_shows_a_month_counted_and_paged(
    client: Any, setup: Any, moved_clock: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(ledger_pages, "TRANSFERS_PAGE", 2)
    await page_login(client, setup.admin)
    moved_clock.advance(timedelta(days=-62))
    earlier = [await _award(client, setup, n, f"m-old-{n}") for n in (1, 2, 3)]
    then = clock.today().strftime("%Y-%m")
    moved_clock.reset()
    await page_login(client, setup.admin)
    recent = [await _award(client, setup, n, f"m-new-{n}") for n in (4, 5)]
    url = f"/admin/c/{setup.community_id}/ledger"

    page = (await client.get(url, params={"month": then})).text
    assert f"{then}的积分流水：共 3 笔，最新的在前。 第 1 页，共 2 页。" in page
    assert _listed(page) == [earlier[2], earlier[1]]
    following = re.search(r'<a rel="next" href="\?month=([0-9-]+)&amp;page=2#transfers"', page)
    assert following is not None and following.group(1) == then
    second = (await client.get(url, params={"month": then, "page": "2"})).text
    assert _listed(second) == [earlier[0]] and 'href="?month=' in second
    assert 'href="?#transfers"' in second  # back to the newest
    english = (await client.get(url, params={"month": then}, headers={"Accept-Language": "en"})).text
    assert f"Transfers in {then}: 3, the newest first. Page 1 of 2." in english

    # This month's holds only this month's transfers; one with none says so.
    now = (await client.get(url, params={"month": clock.today().strftime("%Y-%m")})).text
    assert _listed(now) == [recent[1], recent[0]]
    empty = (await client.get(url, params={"month": "2001-01"})).text
    assert "这个月没有积分流水。" in empty and _listed(empty) == []

    # A month that is none is refused in words, keeps what was typed, and shows the newest.
    for typed in ("2026-13", "十一月"):
        refused = await client.get(url, params={"month": typed})
        assert refused.status_code == 200
        assert "data-month-refused" in refused.text and "月份格式为YYYY-MM，例如2026-03。" in refused.text
        assert f'value="{typed}"' in refused.text and _listed(refused.text)[:2] == [recent[1], recent[0]]
