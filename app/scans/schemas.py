from __future__ import annotations

import msgspec


class ScanIn(msgspec.Struct):
    code: str
    event_id: int | None = None
    action: str | None = None
    idempotency_key: str | None = None
