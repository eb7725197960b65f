"""tests/file_order.py's COSTLIEST_FIRST names files that exist: a renamed or moved file would
otherwise drop out of the front of `make test`'s order without a word."""

from __future__ import annotations

from tests.conftest import ROOT
from tests.file_order import COSTLIEST_FIRST


def test_the_costliest_files_first_are_files_of_the_suite() -> None:
    missing = [path for path in COSTLIEST_FIRST if not (ROOT / path).is_file()]
    assert missing == []
    assert len(set(COSTLIEST_FIRST)) == len(COSTLIEST_FIRST)
