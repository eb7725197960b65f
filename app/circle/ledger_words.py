"""What the service circle's transfers were for, in the reader's language (app.ledger.words).
The assembly imports it (app.domains.load_ledger_words)."""

from __future__ import annotations

from typing import Any

from app.core.i18n import lazy
from app.ledger import words


@words.renders("circle_voucher")
def _voucher_words(reason: dict[str, Any], gettext: words.Gettext) -> str:
    """A voucher's line on the statement: the service."""
    return gettext(lazy("Service voucher: %(offer)s"), offer=reason["offer"])


@words.renders("circle_settlement")
def _settlement_words(reason: dict[str, Any], gettext: words.Gettext) -> str:
    # After the kind's tag ("Service circle settlement"): only the month it settles.
    return gettext(lazy("for %(month)s"), month=reason["month"])
