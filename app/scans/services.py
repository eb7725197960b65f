"""The scan log: every scan, failed ones too, with its outcome or reason code."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock, scanning
from app.core.authz import Actor
from app.scans.models import Scan


def code_digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()[:16]


def _event_of(request: scanning.ScanRequest) -> int | None:
    if request.event_id is not None:
        return request.event_id
    from app.events import codes

    parsed = codes.parse(request.code) if request.code else None
    return parsed.event_id if parsed else None


async def record(
    session: AsyncSession,
    actor: Actor,
    request: scanning.ScanRequest,
    result: str,
    data: dict[str, Any] | None = None,
) -> None:
    data = data or {}
    kind = scanning.kind_of(request) if request.code and len(request.code) <= 200 else "unknown"
    event_id = data.get("event_id") or _event_of(request)
    await session.execute(
        insert(Scan).values(
            at=clock.now(),
            community_id=data.get("community_id"),
            event_id=event_id if isinstance(event_id, int) and event_id < 2**63 else None,
            scanner_id=actor.user_id,
            subject_id=data.get("user_id"),
            kind=kind[:20],
            action=(request.action or data.get("action") or None),
            result=result[:30],
            code_digest=code_digest(request.code or ""),
            idempotency_key=(request.idempotency_key or None) and request.idempotency_key[:100],  # type: ignore[index]
            address=(request.address or "")[:64] or None,
        )
    )
