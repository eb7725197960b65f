"""The wishes' scan kind, registered with app.scans.scanning at import (the assembly imports every
domain's scan_handlers): "JW1", a delivery code shown by the claimant and scanned by the
beneficiary's side."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from app.core.authz import Actor
from app.core.uow import Connection
from app.scans import scanning
from app.wishes import delivery

# The app's secret, which signs delivery codes, set around every scan.
_secret: ContextVar[str] = ContextVar("jinlin_wishes_secret")


@scanning.setup
@contextmanager
def _from_the_app(state: Any) -> Iterator[None]:
    token = _secret.set(state["settings"].secret_key)
    try:
        yield
    finally:
        _secret.reset(token)


RESULT_TEMPLATE = "wishes/_scan_delivered.html"


@scanning.handler("JW1")
async def delivery_scan(
    conn: Connection, actor: Actor, request: scanning.ScanRequest, log: scanning.ScanLog
) -> scanning.ScanOutcome:
    done = await delivery.deliver(conn, actor, request.code, _secret.get(), address=request.address)
    return scanning.ScanOutcome(
        "delivered",
        {"wish_id": done.wish_id, "title": done.title, "points_awarded": done.points},
        template=RESULT_TEMPLATE,
    )
