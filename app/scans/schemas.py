from __future__ import annotations

from typing import Literal

import msgspec

from app.core.fields import Id, Key, Text


class ScanIn(msgspec.Struct):
    # Any text: what is not a code of ours is answered `code_invalid`, as API.md says.
    code: Text
    event_id: Id | None = None
    action: Literal["checkin", "checkout"] | None = None
    idempotency_key: Key | None = None
