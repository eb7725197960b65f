"""What the store's transfers were for, in the reader's language (app.ledger.words). The
assembly imports it (app.domains.load_ledger_words)."""

from __future__ import annotations

from typing import Any

from app.core.i18n import lazy
from app.ledger import words


@words.renders("store_order")
def _order_words(reason: dict[str, Any], gettext: words.Gettext) -> str:
    """An order's line on the statement: the item and how many (the reason its hold carried)."""
    return gettext(lazy("%(item)s × %(quantity)d"), item=reason["item"], quantity=int(reason["quantity"]))
