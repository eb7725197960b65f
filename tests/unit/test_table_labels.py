"""A list table is a stacked list on a phone and in 长辈版 at any width: each cell after a row's
first then stands alone, so it says what it is (`data-label`, the column's heading). Without it a
row read "30" and "2026-12-07 17:23" with nothing to say they were points and a pickup deadline."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TABLE = re.compile(r'<table class="list[^"]*"[^>]*>(.*?)</table>', re.S)
ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
CELL = re.compile(r"<td(?![^>]*colspan)([^>]*)>")


def test_every_cell_after_a_rows_first_in_a_list_table_has_its_label() -> None:
    unlabelled = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for table in TABLE.finditer(text):
            if "</thead>" not in table.group(1):
                continue  # a table of named rows (a category and its hours) says it in its first cell
            body = table.group(1).split("</thead>", 1)[1]
            for row in ROW.finditer(body):
                cells = CELL.findall(row.group(1))
                if any("data-label" not in attributes for attributes in cells[1:]):
                    line = text[: table.start() + len(table.group(0).split("</thead>", 1)[0])].count("\n")
                    unlabelled.append(f"{path.relative_to(TEMPLATES)}:{line + 1}")
    assert unlabelled == []
