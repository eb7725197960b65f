"""The imports page lists every import the community made: the newest a page at a time with their
count (it listed the latest 10, and an older import's page and its cards were out of reach)."""

from __future__ import annotations

import re
from typing import Any

from app.imports import admin_pages
from tests.imports.conftest import Place, sql


async def test_the_imports_made_are_paged_with_their_count(
    client: Any, place: Place, engine: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(admin_pages, "RUNS_PAGE", 2)
    made = [
        await sql(
            engine,
            "INSERT INTO import_runs (community_id, filename, kind, status) "
            "VALUES (:c, :f, 'csv', 'done') RETURNING id",
            c=place.cid,
            f=f"第{n}批居民.csv",
        )
        for n in range(5)
    ]
    seen: list[int] = []
    for number in (1, 2, 3):
        page = (await client.get(f"/admin/c/{place.cid}/imports?page={number}")).text
        assert "导入：5 次" in page and f"第 {number} 页，共 3 页" in page
        seen += [int(i) for i in re.findall(rf'href="/admin/c/{place.cid}/imports/(\d+)"', page)]
    assert seen == made[::-1]  # each once, the newest first
    english = (
        await client.get(f"/admin/c/{place.cid}/imports?page=2", headers={"Accept-Language": "en"})
    ).text
    assert 'href="?page=1#listed"' in english and 'href="?page=3#listed"' in english
