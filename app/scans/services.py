"""The scan log: every scan, failed ones too, with its outcome or reason code."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import text

from app.core import clock, scanning
from app.core.authz import Actor
from app.core.fastdb import Db


def code_digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()[:16]


def _event_of(request: scanning.ScanRequest) -> int | None:
    if request.event_id is not None:
        return request.event_id
    from app.events import codes

    parsed = codes.parse(request.code) if request.code else None
    return parsed.event_id if parsed else None


_INSERT = text(
    "INSERT INTO scans (at, community_id, event_id, scanner_id, subject_id, kind, action, result, "
    "code_digest, idempotency_key, address) VALUES (:at, :community_id, :event_id, :scanner_id, "
    ":subject_id, :kind, :action, :result, :code_digest, :idempotency_key, :address)"
)


async def record(
    session: Db,
    actor: Actor,
    request: scanning.ScanRequest,
    result: str,
    data: dict[str, Any] | None = None,
) -> None:
    data = data or {}
    kind = scanning.kind_of(request) if request.code and len(request.code) <= 200 else "unknown"
    event_id = data.get("event_id") or _event_of(request)
    await session.execute(
        _INSERT,
        {
            "at": clock.now(),
            "community_id": data.get("community_id"),
            "event_id": event_id if isinstance(event_id, int) and event_id < 2**63 else None,
            "scanner_id": actor.user_id,
            "subject_id": data.get("user_id"),
            "kind": kind[:20],
            "action": request.action or data.get("action") or None,
            "result": result[:30],
            "code_digest": code_digest(request.code or ""),
            "idempotency_key": (request.idempotency_key or "")[:100] or None,
            "address": (request.address or "")[:64] or None,
        },
    )
