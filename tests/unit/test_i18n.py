"""Every message in code and templates has a zh-Hans translation; languages are negotiated."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from app.core.i18n import negotiate, translations

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import messages  # noqa: E402
from babel.messages.pofile import read_po

from app.core.i18n import LOCALES_DIR


def test_every_message_has_a_chinese_translation():
    missing = messages.untranslated()
    assert missing == {}, f"untranslated: {missing}"


def test_no_catalog_keeps_a_message_no_source_uses():
    """A translation whose source line is gone ("Error code:", "Scan a code") stayed in the
    catalogs, and `check` passed with it: such entries only pile up."""
    assert messages.obsolete() == {}
    assert messages.main(["check"]) == 0


def test_chinese_is_the_default_and_accept_language_is_respected():
    assert negotiate(None, None) == "zh"
    assert negotiate(None, "en-US,en;q=0.9") == "en"
    assert negotiate(None, "fr-FR, en;q=0.5, zh-CN;q=0.8") == "zh"
    assert negotiate("en", "zh-CN") == "en"  # the user's own switch wins
    assert negotiate("xx", "de") == "zh"


def test_catalog_translates_and_english_is_identity():
    assert translations("zh").gettext("Log in") == "登录"
    assert translations("en").gettext("Log in") == "Log in"


def test_a_message_means_one_thing_across_the_domains_catalogs():
    """The domains' catalogs are merged into one, so a msgid translated differently in two of them
    shows whichever was merged last (a notice's "Open" button made an open statement read 查看)."""
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in sorted((LOCALES_DIR / "zh_Hans" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh):
                if not message.id or not message.string or not isinstance(message.id, str):
                    continue
                first = seen.setdefault(message.id, (po.stem, str(message.string)))
                if first[1] != message.string:
                    clashes.append((message.id, first, (po.stem, message.string)))
    assert clashes == []


def test_chinese_translations_use_full_width_punctuation():
    """Chinese text takes （），：；！？: "发放积分 (积分)" or "请注意:" among Chinese characters is
    a slip the catalogs must not keep (a placeholder's own brackets are no punctuation)."""
    assert messages.half_width() == {}
    slips = ("发放积分 (积分)", "请注意:", "已完成,谢谢", "好吗?", "(积分)")
    assert all(messages.HALF_WIDTH.search(messages.PLACEHOLDER.sub("x", s)) for s in slips)
    fine = (
        "%(name)s（%(unit)s）",
        "请注意：",
        "已完成，谢谢",
        "%(n)s 积分",
        "Stripe：测试",
        "%(time)s 起可以签到",
    )
    assert not any(messages.HALF_WIDTH.search(messages.PLACEHOLDER.sub("x", s)) for s in fine)


def test_points_are_called_jifen_not_fen_alone():
    """The app's word for points is 积分 (GLOSSARY.md): "参加得 5 分" read as a score or as cents.
    分 after a number is the money's unit only (the cent, msgid "fen")."""
    bare = re.compile(r"(\d|%\(\w+\)s|%s|%d)\s*分(?![钟页])")
    wrong = []
    for path in sorted(LOCALES_DIR.glob("zh_Hans/LC_MESSAGES/*.po")):
        with path.open("rb") as f:
            catalog = read_po(f)
        for message in catalog:
            if not message.id or message.id == "fen":
                continue
            for text in message.string if isinstance(message.string, tuple) else (message.string,):
                if text and bare.search(text):
                    wrong.append((path.name, message.id, text))
    assert wrong == []
