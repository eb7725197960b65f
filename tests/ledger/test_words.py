"""app.ledger.words: a transfer's structured reason in the reader's language; the memo when a
kind has no renderer or a line has no reason."""

from __future__ import annotations

from types import SimpleNamespace

from app import domains
from app.asgi import template_environment
from app.core.i18n import translations
from app.ledger import words
from app.ledger.pages import KIND_LABELS
from app.ledger.words import duration, words_for
from app.wishes import delivery as wishes  # noqa: F401 - registers the "wish" renderer

# The assembly registers each domain's words (app.<domain>.ledger_words), as the app does.
domains.load_ledger_words()


def _gettext(lang: str):
    catalog = translations(lang)

    def gettext(message: str, **variables: object) -> str:
        text = catalog.gettext(message)
        return text % variables if variables else text

    return gettext


def test_each_kind_reads_in_both_languages() -> None:
    zh, en = _gettext("zh"), _gettext("en")
    stay = {"title": "六清大扫除", "minutes": 135}
    assert words_for("event", stay, "", zh) == "六清大扫除，2小时15分钟"
    assert words_for("event", stay, "", en) == "六清大扫除, 2 h 15 min"
    assert words_for("event", {"title": "议事会", "minutes": 0}, "", zh) == "参加议事会"
    assert words_for("hours", {"what": "陪老人就医", "minutes": 60}, "", zh) == "陪老人就医，1小时"
    assert words_for("store_order", {"item": "大米 5kg", "quantity": 1}, "", en) == "大米 5kg × 1"
    assert words_for("expiry", {"before": "2026-01-31"}, "", zh) == "2026-01-31之前获得的积分已过期"
    assert words_for("expiry", {"before": "2026-01-31"}, "", en) == "Points earned before 2026-01-31 expired"


def test_typed_memos_and_unknown_shapes_stay_as_written() -> None:
    zh = _gettext("zh")
    assert words_for("award", None, "为小区加装电梯建言献策", zh) == "为小区加装电梯建言献策"
    assert words_for("event", None, "参加旧活动", zh) == "参加旧活动"
    assert words_for("event", {"unexpected": 1}, "旧说明", zh) == "旧说明"


def test_durations() -> None:
    en = _gettext("en")
    assert [duration(m, en) for m in (0, 45, 60, 135)] == ["0 min", "45 min", "1 h", "2 h 15 min"]


def test_pages_show_lines_through_the_filter() -> None:
    template = template_environment().from_string("{{ line|transfer_words }}")
    line = SimpleNamespace(kind="store_order", reason={"item": "大米 5kg", "quantity": 2}, memo="")
    assert template.render(line=line, gettext=_gettext("zh")) == "大米 5kg × 2"
    old = SimpleNamespace(kind="store_order", reason=None, memo="x1")
    assert template.render(line=old, gettext=_gettext("en")) == "x1"


def test_every_kind_a_transfer_is_written_with_has_a_label_in_chinese() -> None:
    """The statement's tag showed "event" on a Chinese page: the labels were keyed by other names."""
    kinds = set(words._RENDERERS) | {"award", "correction", "reversal", "counter"}
    assert {"event", "hours", "store_order", "expiry", "wish"} <= kinds
    assert kinds - set(KIND_LABELS) == set()
    zh = translations("zh")
    untranslated = {kind for kind in kinds if zh.gettext(KIND_LABELS[kind]) == KIND_LABELS[kind]}
    assert untranslated == set()
