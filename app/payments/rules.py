"""Pure decisions about money: how a payment's status moves, and a goal's progress."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.core import money, progress
from app.core.codes import typed_form
from app.core.errors import Invalid
from app.core.i18n import lazy

# The co-funding sources, in the order the progress bar shows them: msgid of each.
SOURCE_LABELS = {
    "government": lazy("Government (政府补)"),
    "partner": lazy("Partner units (社会筹)"),
    "residents": lazy("Residents (居民凑)"),
    "online": lazy("Online donations"),
}
# Stripe's names of the payment methods (STRIPE_PAYMENT_METHODS), as people call them: msgid of each.
METHOD_LABELS = {
    "wechat_pay": lazy("WeChat Pay"),
    "alipay": lazy("Alipay"),
    "card": lazy("Bank card"),
}
# What an admin may record by hand; online donations come only through Stripe.
RECORDED_SOURCES = ("government", "partner", "residents")

# What each Stripe event asks of a payment.
COMPLETED = "completed"
EXPIRED = "expired"
REFUNDED = "refunded"
EVENT_ACTIONS = {
    "checkout.session.completed": COMPLETED,
    "checkout.session.async_payment_succeeded": COMPLETED,
    "checkout.session.expired": EXPIRED,
    # A method that settles later (a bank transfer) failed after the Checkout completed unpaid:
    # nothing came in, as for an expired session.
    "checkout.session.async_payment_failed": EXPIRED,
    "charge.refunded": REFUNDED,
}

AMOUNT_WORDS = lazy("Type an amount in %(currency)s, such as 50 or 12.50.")
AT_LEAST = lazy("Give an amount of at least %(amount)s.")
MAX_AMOUNT_CENTS = 10**10  # a hundred million yuan: anything above is a typing mistake
MIN_DONATION_CENTS = 100  # one yuan


def next_status(current: str, action: str) -> str | None:
    """The status a payment moves to on `action`, or None when the event changes nothing.

    Status moves only forward: open -> paid -> refunded, open -> expired. `expired` and
    `refunded` are final, so repeated and out-of-order events are harmless: a completion after
    an expiry is ignored, and a refund that arrives before its completion ends the payment with
    nothing added (the money came and went)."""
    if action == COMPLETED:
        return "paid" if current == "open" else None
    if action == EXPIRED:
        return "expired" if current == "open" else None
    if action == REFUNDED:
        return "refunded" if current in ("open", "paid") else None
    return None


def refunded_total(reported: object, amount_cents: int) -> int:
    """The charge's refunded total as a `charge.refunded` event reports it (Stripe's
    `amount_refunded`, cumulative over partial refunds), within 0 and the payment's amount; an
    event that does not say is taken as the whole amount."""
    try:
        total = int(reported) if reported is not None else amount_cents  # type: ignore[call-overload]
    except (TypeError, ValueError):
        total = amount_cents
    return max(0, min(total, amount_cents))


@dataclass(frozen=True)
class Progress:
    """A goal's funding: the total, the share of each source, and named donors."""

    goal_cents: int | None
    by_source: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    more_names: int = 0  # named givers past those in `names`

    @property
    def total_cents(self) -> int:
        return sum(self.by_source.values())

    @property
    def exceeded(self) -> bool:
        return self.goal_cents is not None and self.total_cents > self.goal_cents

    @property
    def reached(self) -> bool:
        return self.goal_cents is not None and self.total_cents >= self.goal_cents

    @property
    def percent(self) -> int:
        """Of the goal, capped at 100 for the bar's width (the words say when it is exceeded)."""
        return min(100, self.of_goal)

    @property
    def of_goal(self) -> int:
        """Of the goal in percent, past 100 when it is exceeded (the bar's words); 0 without one."""
        return progress.percent_of(self.total_cents, self.goal_cents or 0)

    def share(self, source: str) -> int:
        """The source's width on the bar, in percent of the bar (of the goal, or of the total
        when the goal is exceeded)."""
        whole = max(self.goal_cents or 0, self.total_cents)
        if whole <= 0:
            return 0
        return max(0, self.by_source.get(source, 0)) * 100 // whole


def donation_refusal(amount_cents: int) -> str | None:
    """Why a donation amount is refused, as a reason code, or None."""
    if not MIN_DONATION_CENTS <= amount_cents <= MAX_AMOUNT_CENTS:
        return "validation_error"
    return None


def not_an_amount(**extra: str) -> Invalid:
    """The refusal of a typed amount that is not one, naming the currency where it is shown."""
    return Invalid(AMOUNT_WORDS, words={"currency": money.CURRENCY}, **extra)


def at_least(cents: int, **extra: str) -> Invalid:
    """The refusal of an amount under `cents`, named in the currency where it is shown."""
    return Invalid(AT_LEAST, words={"amount": money.Amount(cents)}, **extra)


_YUAN = re.compile(r"(?=\.?[0-9])[0-9]*\.?[0-9]*")


def parse_yuan(text: str) -> int | None:
    """A typed amount in yuan (12, 12.5, 1,200.00) as cents, or None when it is not one. As a
    Chinese IME types it too: its full-width digits, point, comma and ￥ are read as ASCII
    (NFKC); digits of other scripts (١٢) are no amount."""
    cleaned = typed_form(text)
    cleaned = cleaned.replace(",", "").replace("¥", "").replace("元", "")
    if not _YUAN.fullmatch(cleaned):
        return None
    whole, _, part = cleaned.partition(".")
    if len(part) > 2 or len(whole) > 12:
        return None
    return int(whole or "0") * 100 + int((part + "00")[:2])
