"""A statement line is the kind's tag and the transfer's words ("微心愿 “修插座”已送达"): the words
never say again what the tag says. They did for a delivered wish ("微心愿 微心愿送达：修插座") and a
provider's monthly settlement ("服务圈结算 服务圈2026-11结算")."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.i18n import translations
from app.domains import load_ledger_words
from app.ledger import words
from app.ledger.pages import KIND_LABELS

# Every key a kind's reason may carry, with a value.
REASON: dict[str, Any] = {
    "title": "修插座",
    "offer": "理发",
    "month": "2026-11",
    "item": "毛巾",
    "quantity": 2,
    "what": "楼道清扫",
    "minutes": 90,
    "before": "2026-01-01",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_line_says_its_kind_twice(lang: str) -> None:
    load_ledger_words()
    catalog = translations(lang)

    def gettext(message: str, **variables: Any) -> str:
        text = catalog.gettext(message)
        return text % variables if variables else text

    said = {}
    for kind, label in KIND_LABELS.items():
        tag = gettext(label)
        line = words.words_for(kind, REASON, "", gettext)
        said[kind] = f"{tag} {line}"
        assert tag not in line, said[kind]
    assert said["wish"] in ("微心愿 “修插座”已送达", "Micro-wish “修插座” delivered")
    assert said["circle_settlement"] in ("服务圈结算 2026-11 月份", "Service circle settlement for 2026-11")
