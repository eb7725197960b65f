"""The import's page lists the first SHOWN_ERRORS rejected rows and says the CSV has the others
only when there are others: at exactly as many as it lists, it said so with nothing left out."""

from __future__ import annotations

from typing import Any

import pytest

from app.imports import admin_pages
from tests.imports.conftest import Place, checked, csv_file

EN = ["phone", "name", "compound", "building", "roles", "no_phone"]


@pytest.mark.parametrize("bad", [2, 3])
async def test_the_page_says_rows_are_left_out_only_when_they_are(
    client: Any, place: Place, monkeypatch: Any, bad: int
) -> None:
    monkeypatch.setattr(admin_pages, "SHOWN_ERRORS", 2)
    rows = [["12345", f"坏号码{n}", place.compound, "", "", ""] for n in range(bad)]
    _run_id, page = await checked(client, place.cid, csv_file(EN, rows))
    assert page.count("data-row=") == 2
    said = "只显示前 2 个未通过的行；CSV 文件中有全部。"
    assert ("data-rejected-more" in page, said in page) == (bad > 2, bad > 2)


async def test_the_file_of_rejected_rows_is_punctuated_in_the_readers_language(
    client: Any, place: Place
) -> None:
    """The English file read "Name：The same person ..." with the Chinese colon and semicolon
    between a row's problems, whatever the reader's language."""
    rows = [["12345", "", "没有这个小区", "", "", ""]]
    run_id, _page = await checked(client, place.cid, csv_file(EN, rows))
    url = f"/admin/c/{place.cid}/imports/{run_id}/rejected.csv"
    client.cookies.set("lang", "en")
    english = (await client.get(url)).content.decode("utf-8-sig").splitlines()[1]
    client.cookies.delete("lang")
    assert "Phone: " in english and "Name: " in english
    assert "：" not in english and "；" not in english
    chinese = (await client.get(url)).content.decode("utf-8-sig").splitlines()[1]
    assert "手机：" in chinese and "姓名：" in chinese
    # Chinese sentences follow each other with no space after their full stop: 。 is one.
    assert "。 " not in chinese and "。姓名：" in chinese, chinese
    assert ". Name: " in english, english
