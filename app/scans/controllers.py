"""The scanner page for every role, its HTML endpoint, and `POST /api/v1/scans` (API.md)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import scanning, uow
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, domain_error_handler
from app.core.i18n import lazy
from app.core.uow import Connection, connection_of
from app.core.web import client_address, error_message, form_data, optional_int, render
from app.scans import services
from app.scans.schemas import ScanIn

ACTIONS = ("checkin", "checkout")


async def run_scan(
    web: Request, conn: Connection, actor: Actor, request: scanning.ScanRequest
) -> scanning.ScanOutcome | DomainError:
    """Dispatches a scan in the request's transaction and logs it, success or refusal. A
    refusal is returned, not raised: its own writes were rolled back (scanning.dispatch), and
    its log row is to be committed with the request."""
    log = scanning.ScanLog(actor, request)
    try:
        with scanning.prepared(web.app.state):
            outcome = await scanning.dispatch(conn, actor, request, log)
    except DomainError as exc:
        if not log.written:
            await services.record(conn, actor, request, exc.code, facts=log.facts)
        return exc
    if not log.written:
        await services.record(conn, actor, request, outcome.result, outcome.data)
    return outcome


@post("/api/v1/scans", tags=["earning"], status_code=200)
async def api_scan(data: JSONBody[ScanIn], request: Request, actor: Actor, conn: Connection) -> Response[Any]:
    if data.action is not None and data.action not in ACTIONS:
        raise Invalid(field="action")
    scanned = await run_scan(
        request,
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


@get("/scan", include_in_schema=False)
async def scan_page(
    request: Request,
    actor: Actor,
    db_session: AsyncSession,
    event_id: str = "",
    action: str = "",
    context: str = "",
) -> Template:
    """Each scanner opens only for whom it works: the event scanner (member codes) for the
    event's organisers, grid workers and staff, the counter scanner for counter staff; anyone may open the
    plain scanner, which reads the event screen's code. Others are told so before they scan."""
    event = await scanning.event_for_page(db_session, actor, optional_int(event_id), scanner=True)
    if context == "counter" and not actor.staff_of:
        raise Forbidden(
            lazy("The counter scanner is for counter staff. Show your pickup code at the counter.")
        )
    if event is not None and action not in ACTIONS:
        action = "checkin"
    return render(
        request,
        "scan/scanner.html",
        event=event,
        mode_action=action if event is not None else "",
        mode_context=context if context in ("counter",) else "",
        result_template=None,
    )


@post("/scan", include_in_schema=False)
async def scan_submit(request: Request, actor: Actor, db_session: AsyncSession) -> Template:
    form = await form_data(request)
    event_id = optional_int(form.get("event_id"))
    action = form.get("action") or None
    context = form.get("context") or None
    scan = scanning.ScanRequest(
        code=(form.get("code") or "").strip(),
        event_id=event_id,
        action=action if action in ACTIONS else None,
        idempotency_key=form.get("idempotency_key") or None,
        context=context if context == "counter" else None,
        preview=form.get("preview") in ("1", "true", "on"),
        address=client_address(request),
    )
    partial = bool(request.headers.get("hx-request"))
    outcome: scanning.ScanOutcome | DomainError = DomainError("code_invalid", 422)
    if scan.code:
        outcome = await run_scan(request, await connection_of(db_session), actor, scan)
    if isinstance(outcome, DomainError):
        exc = outcome
        uow.keep_refusal(request.scope)  # type: ignore[arg-type]
        context_vars: dict[str, Any] = {
            "code": exc.code,
            "detail": error_message(request, exc),
            "extra": exc.extra,
            "scan": scan,
        }
        if partial:
            # htmx swaps 200 answers only; the words and the icon carry the refusal.
            return render(request, "scan/_refused.html", **context_vars)
        event = await _event_for_page_safe(db_session, actor, event_id)
        return render(
            request,
            "scan/scanner.html",
            status_code=exc.status_code,
            event=event,
            mode_action=scan.action or "",
            mode_context=scan.context or "",
            result_template="scan/_refused.html",
            **context_vars,
        )
    template = outcome.template or "scan/_result.html"
    context_vars = {"outcome": outcome, **outcome.data, "scan": scan}
    if partial:
        return render(request, template, **context_vars)
    event = await _event_for_page_safe(db_session, actor, event_id)
    return render(
        request,
        "scan/scanner.html",
        event=event,
        mode_action=scan.action or "",
        mode_context=scan.context or "",
        result_template=template,
        **context_vars,
    )


async def _event_for_page_safe(db_session: AsyncSession, actor: Actor, event_id: int | None) -> Any:
    try:
        return await scanning.event_for_page(db_session, actor, event_id)
    except DomainError:
        return None


route_handlers = [api_scan, scan_page, scan_submit]
