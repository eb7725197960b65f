"""What each worker remembers for buying vouchers while it hears their changes
(app.core.changes): offers' facts and members' wallet ids (`vouchers.KnownOffers`). The assembly
puts it in the app's state (app.domains.worker_memos); the purchase route reads it there."""

from __future__ import annotations

from typing import Any

from app.circle.vouchers import KnownOffers
from app.core.changes import ChangeFeed


def remember(feed: ChangeFeed) -> dict[str, Any]:
    return {"offer_facts": KnownOffers.on(feed)}
