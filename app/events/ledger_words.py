"""What the events' transfers were for, in the reader's language (app.ledger.words): a stay's
award ("event": the event's title and the minutes credited, as the check-out's statement and the
approval queue store them, `checkins.stay_reason`) and approved hours ("hours"). The assembly
imports it (app.domains.load_ledger_words)."""

from __future__ import annotations

from typing import Any

from app.core.i18n import lazy
from app.ledger import words


@words.renders("event")
def _stay_words(reason: dict[str, Any], gettext: words.Gettext) -> str:
    minutes = int(reason["minutes"])
    if minutes <= 0:
        return gettext(lazy("Took part in %(title)s"), title=reason["title"])
    return gettext(
        lazy("%(title)s, %(duration)s"), title=reason["title"], duration=words.duration(minutes, gettext)
    )


@words.renders("hours")
def _hours_words(reason: dict[str, Any], gettext: words.Gettext) -> str:
    return gettext(
        lazy("%(title)s, %(duration)s"),
        title=reason["what"],
        duration=words.duration(int(reason["minutes"]), gettext),
    )
