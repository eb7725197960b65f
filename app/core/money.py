"""Money as people read it, the one way every page shows it: whole cents as an amount with two
decimals and its thousands grouped (1,234.50), named in the currency the payments are taken in
(`STRIPE_CURRENCY`): the yuan for cny (12.50元, 12.50 yuan), the ISO code for any other
(12.50 USD), the same in every language."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context

from app.core.i18n import lazy

YUAN = "cny"
AMOUNT_IN_YUAN = lazy("%(amount)s yuan")
YUAN_NAME = lazy("yuan")


def amount(cents: int) -> str:
    """1,234.50: the amount alone, as a table of figures or a form's field shows it."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}.{part:02d}"


def money(cents: int, currency: str, gettext: Any) -> str:
    """The amount with its currency: 12.50元 (12.50 yuan), or 12.50 USD."""
    if currency == YUAN:
        return str(gettext(AMOUNT_IN_YUAN, amount=amount(cents)))
    return f"{amount(cents)} {currency.upper()}"


def currency_name(currency: str, gettext: Any) -> str:
    """The currency's name where a label gives it without an amount: Amount (元)."""
    return str(gettext(YUAN_NAME)) if currency == YUAN else currency.upper()


@pass_context
def money_in_page(context: Any, cents: int) -> str:
    """`{{ money(cents) }}`, in the page's language and the payments' currency."""
    return money(cents, context.get("currency") or YUAN, context["gettext"])


@pass_context
def currency_in_page(context: Any) -> str:
    """`{{ currency_name() }}`: the currency's name in the page's language."""
    return currency_name(context.get("currency") or YUAN, context["gettext"])
