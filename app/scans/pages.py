"""The scanner page for every role and its HTML endpoint; the scan itself is
app.scans.services.run_scan, as for the API (app.scans.api)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import uow
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden
from app.core.i18n import lazy
from app.core.uow import connection_of
from app.core.web import client_address, error_message, form_data, optional_int, render
from app.places.models import Community
from app.scans import scanning, services


@get("/scan", include_in_schema=False)
async def scan_page(
    request: Request,
    actor: Actor,
    db_session: AsyncSession,
    event_id: str = "",
    action: str = "",
    context: str = "",
    done: str = "",
) -> Template:
    """Each scanner opens only for whom it works: the event scanner (member codes) for the
    event's organisers, grid workers and staff, the counter scanner for counter staff; anyone may open the
    plain scanner, which reads the event screen's code. Others are told so before they scan."""
    event = await scanning.event_for_page(db_session, actor, optional_int(event_id), scanner=True)
    if context == "counter" and not actor.staff_of:
        raise Forbidden(
            lazy("The counter scanner is for counter staff. Show your pickup code at the counter.")
        )
    if event is not None and action not in services.ACTIONS:
        action = "checkin"
    return render(
        request,
        "scan/scanner.html",
        event=event,
        mode_action=action if event is not None else "",
        mode_context=context if context in ("counter",) else "",
        counters=await _counters(db_session, actor, context),
        result_template=None,
        # Back from signing up the person a check-in was refused for (app.events.pages).
        signed_up=done if event is not None and done in ("signed_up", "waitlisted") else "",
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
        action=action if action in services.ACTIONS else None,
        idempotency_key=form.get("idempotency_key") or None,
        context=context if context == "counter" else None,
        preview=form.get("preview") in ("1", "true", "on"),
        address=client_address(request),
    )
    partial = bool(request.headers.get("hx-request"))
    outcome: scanning.ScanOutcome | DomainError = DomainError("code_invalid", 422)
    if scan.code:
        outcome = await services.run_scan(request.app.state, await connection_of(db_session), actor, scan)
    # The form says whether the camera read the code or a person typed it (the default without
    # JavaScript): a typed code that is not known is a mistyped one, not a bad QR code.
    typed = form.get("via") != "camera"
    if isinstance(outcome, DomainError):
        exc = outcome
        if typed:
            exc = scanning.typed_refusal(exc)
        uow.keep_refusal(request.scope)  # type: ignore[arg-type]
        context_vars: dict[str, Any] = {
            "code": exc.code,
            "detail": error_message(request, exc),
            "extra": exc.extra,
            "scan": scan,
            "typed": typed,
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
            counters=await _counters(db_session, actor, scan.context),
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
        counters=await _counters(db_session, actor, scan.context),
        result_template=template,
        **context_vars,
    )


async def _counters(db_session: AsyncSession, actor: Actor, context: str | None) -> list[Community]:
    """The communities whose counter the counter scanner serves (its crumbs lead back to each
    one's orders list; there was only the way home)."""
    if context != "counter" or not actor.staff_of:
        return []
    found = await db_session.scalars(
        select(Community).where(Community.id.in_(actor.staff_of)).order_by(Community.id)
    )
    return list(found)


async def _event_for_page_safe(db_session: AsyncSession, actor: Actor, event_id: int | None) -> Any:
    try:
        return await scanning.event_for_page(db_session, actor, event_id)
    except DomainError:
        return None


route_handlers = [
    scan_page,
    scan_submit,
]
