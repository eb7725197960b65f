"""Money is named in one place, app.core.money: no other message says yuan, fen or 元 itself, so
that a community taking payments in another currency reads that currency everywhere (refusals,
labels, export headers), and the formatter is the one way an amount gets its name."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from app.core import money
from app.core.i18n import LOCALES_DIR, translations

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import messages  # noqa: E402

CURRENCY_WORD = re.compile(r"\byuan\b|\bfen\b|元|RMB|CNY|¥", re.IGNORECASE)
# The formatter's own words: the yuan's name and the fen's (app.core.money).
NAMING = {money.AMOUNT_IN_YUAN, money.YUAN_NAME, money.FEN_NAME}


def test_only_the_money_formatter_names_the_currency_in_a_message() -> None:
    """A refusal said "Give an amount from 1 yuan up." and an export's header "Amount (yuan)"
    whatever STRIPE_CURRENCY said; they name the currency through app.core.money now."""
    named = {
        msgid: where
        for msgid, where in messages.extract([messages.ROOT / "app", messages.ROOT / "templates"]).items()
        if CURRENCY_WORD.search(msgid) and msgid not in NAMING
    }
    assert named == {}


def test_no_chinese_translation_says_yuan_where_the_english_does_not() -> None:
    """元 in a translation is the formatter's alone: 金额（元） for "Amount (%(currency)s)" would
    name the yuan in Chinese under any currency."""
    said = {}
    for po in sorted((LOCALES_DIR / "zh_Hans" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale="zh_Hans_CN"):
                if message.id and message.id not in NAMING and "元" in str(message.string):
                    said[str(message.id)] = str(message.string)
    assert said == {}


def test_amounts_and_currency_words_are_named_where_they_are_shown() -> None:
    zh, en = translations("zh").gettext, translations("en").gettext
    words = {"amount": money.Amount(100), "currency": money.CURRENCY, "unit": money.HUNDREDTHS, "n": 3}
    assert money.fill(words, "cny", zh) == {"amount": "1.00元", "currency": "元", "unit": "分", "n": 3}
    assert money.fill(words, "cny", en) == {"amount": "1.00 yuan", "currency": "yuan", "unit": "fen", "n": 3}
    assert money.fill(words, "usd", en) == {
        "amount": "1.00 USD",
        "currency": "USD",
        "unit": "hundredths of USD",
        "n": 3,
    }
    assert money.fill(words, "usd", zh)["unit"] == "百分之一USD"
