"""Money as people read it, the one way every page shows it: whole cents as an amount with two
decimals and its thousands grouped (1,234.50), named in the currency the payments are taken in
(`STRIPE_CURRENCY`): the yuan for cny (12.50元, 12.50 yuan), the ISO code for any other
(12.50 USD), the same in every language. A sentence written before it is shown (a refusal's words,
an export's column names) names money by `Amount` and `CURRENCY`, which take the currency and the
language of where it is shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import pass_context

from app.core.i18n import lazy

YUAN = "cny"
AMOUNT_IN_YUAN = lazy("%(amount)s yuan")
YUAN_NAME = lazy("yuan")
# A hundredth of the currency, where a figure is counted in them (a rate per point).
FEN_NAME = lazy("fen")
HUNDREDTHS_NAME = lazy("hundredths of %(currency)s")


def amount(cents: int) -> str:
    """1,234.50: the amount alone, as a table of figures or a form's field shows it."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}.{part:02d}"


def money(cents: int, currency: str, gettext: Any) -> str:
    """The amount with its currency: 12.50元 (12.50 yuan), or 12.50 USD."""
    if currency == YUAN:
        # Formatted here, so that a catalog's own gettext (an export's job) names it too.
        return str(gettext(AMOUNT_IN_YUAN)) % {"amount": amount(cents)}
    return f"{amount(cents)} {currency.upper()}"


def currency_name(currency: str, gettext: Any) -> str:
    """The currency's name where a label gives it without an amount: Amount (元)."""
    return str(gettext(YUAN_NAME)) if currency == YUAN else currency.upper()


def hundredths_name(currency: str, gettext: Any) -> str:
    """The name of the currency's hundredth, where a whole number counts them: fen (分) for cny."""
    if currency == YUAN:
        return str(gettext(FEN_NAME))
    return str(gettext(HUNDREDTHS_NAME)) % {"currency": currency.upper()}


@dataclass(frozen=True)
class Amount:
    """An amount in a sentence's words, named where the sentence is shown: a refusal raised in a
    service knows the amount, the page or the API answer knows the currency and the language."""

    cents: int

    def words(self, currency: str, gettext: Any) -> str:
        return money(self.cents, currency, gettext)


@dataclass(frozen=True)
class _CurrencyWord:
    """The currency's name (or its hundredth's) in a sentence's words, named where it is shown."""

    hundredths: bool = False

    def words(self, currency: str, gettext: Any) -> str:
        return (hundredths_name if self.hundredths else currency_name)(currency, gettext)


CURRENCY = _CurrencyWord()
HUNDREDTHS = _CurrencyWord(hundredths=True)


def fill(words: dict[str, Any], currency: str, gettext: Any) -> dict[str, Any]:
    """A sentence's words with its amounts and currency names put into words."""
    return {
        key: value.words(currency, gettext) if isinstance(value, Amount | _CurrencyWord) else value
        for key, value in words.items()
    }


@pass_context
def money_in_page(context: Any, cents: int) -> str:
    """`{{ money(cents) }}`, in the page's language and the payments' currency."""
    return money(cents, context.get("currency") or YUAN, context["gettext"])


@pass_context
def currency_in_page(context: Any) -> str:
    """`{{ currency_name() }}`: the currency's name in the page's language."""
    return currency_name(context.get("currency") or YUAN, context["gettext"])


@pass_context
def hundredths_in_page(context: Any) -> str:
    """`{{ hundredths_name() }}`: the name of the currency's hundredth in the page's language."""
    return hundredths_name(context.get("currency") or YUAN, context["gettext"])
