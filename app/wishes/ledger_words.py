"""What the wishes' transfers were for, in the reader's language (app.ledger.words): the points a
volunteer receives for a delivered wish ("wish", with the wish's title). The assembly imports it
(app.domains.load_ledger_words)."""

from __future__ import annotations

from typing import Any

from app.core.i18n import lazy
from app.ledger import words


@words.renders("wish")
def _wish_words(reason: dict[str, Any], gettext: words.Gettext) -> str:
    # The pages put the kind's tag ("Micro-wish") before these words: they name only what happened.
    return gettext(lazy("“%(title)s” delivered"), title=reason["title"])
