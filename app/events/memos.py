"""What each worker remembers of the events' hot rows while it hears their changes
(app.core.changes): the event rows a scan reads. The assembly puts it in the app's state
(app.domains.worker_memos); the scan handlers hand it to the check-in path around every scan."""

from __future__ import annotations

from typing import Any

from app.core.changes import ChangeFeed
from app.events.checkins import event_row_memo


def remember(feed: ChangeFeed) -> dict[str, Any]:
    return {"event_rows": event_row_memo(feed)}
