"""What each worker remembers for placing orders while it hears their changes
(app.core.changes): items' facts and members' wallet ids (`placing.KnownFacts`). The assembly
puts it in the app's state (app.domains.worker_memos); the order routes read it there."""

from __future__ import annotations

from typing import Any

from app.core.changes import ChangeFeed
from app.store.placing import KnownFacts


def remember(feed: ChangeFeed) -> dict[str, Any]:
    return {"order_facts": KnownFacts.on(feed)}
