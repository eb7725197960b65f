"""The one scan entry of the API: `POST /api/v1/scans` (API.md)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.params import JSONBody

from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, domain_error_handler, error_responses
from app.core.uow import Connection
from app.core.web import SMALL_ANSWER, client_address
from app.scans import scanning, services
from app.scans.schemas import ScanIn


# Typed digits are refused for a while past too many wrong ones (app.scans.scanning): 429.
@post(
    "/api/v1/scans",
    tags=["earning"],
    status_code=200,
    opt={SMALL_ANSWER: True},
    responses=error_responses(429),
)
async def api_scan(data: JSONBody[ScanIn], request: Request, actor: Actor, conn: Connection) -> Response[Any]:
    if data.action is not None and data.action not in services.ACTIONS:
        raise Invalid(field="action")
    scanned = await services.run_keyed_scan(
        request.app.state,
        conn,
        actor,
        scanning.ScanRequest(
            code=data.code.strip(),
            event_id=data.event_id,
            action=data.action,
            idempotency_key=data.idempotency_key,
            address=client_address(request),
        ),
    )
    if isinstance(scanned, DomainError):
        # Answered as the exception handler answers it; the unit of work commits the log row.
        return domain_error_handler(request, scanned)
    return Response(scanned.as_json(), status_code=200)


route_handlers = [
    api_scan,
]
