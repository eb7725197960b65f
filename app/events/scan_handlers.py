"""The events' scan kinds: kiosk codes scanned by residents ("JE1") and member codes scanned by
an organiser for an event ("member@event"), what they need of the app around every scan, and
the event a scanner page is opened for. Registered with app.scans.scanning at import (the
assembly imports every domain's scan_handlers, app.domains.load_scan_handlers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.member_cards import resolve_member_code
from app.core import clock
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection
from app.events import checkins, codes, services
from app.scans import scanning

RESULT_TEMPLATE = "events/_scan_result.html"


@scanning.setup
@contextmanager
def _from_the_app(state: Any) -> Iterator[None]:
    """The app's secret for kiosk codes and this worker's memory of event rows."""
    secret = codes.current_secret.set(state["settings"].secret_key)
    rows = checkins.event_rows.set(state["event_rows"])
    try:
        yield
    finally:
        checkins.event_rows.reset(rows)
        codes.current_secret.reset(secret)


@scanning.event_page
async def event_for_scanner(session: AsyncSession, actor: Actor, event_id: int, scanner: bool) -> Any:
    """The event a scanner page is for; with `scanner`, refused up front (in words) to anyone who
    may not scan members in or out there."""
    event = await services.event_in(session, actor, event_id)
    if scanner and not services.can_act_for_members(actor, event):
        raise Forbidden(
            lazy(
                "Only the event's organisers, grid workers and staff scan members in or out. "
                "To check yourself in, scan the code on the event screen."
            )
        )
    return event


NOT_YOUR_COMMUNITY = lazy("Not your community: this event belongs to another community.")


def _outcome(event: Any, user_id: int, name: str, result: Any) -> scanning.ScanOutcome:
    data: dict[str, Any] = {
        "event_id": event.id,
        "event_title": event.title,
        "user_id": user_id,
        "display_name": name,
        "checkin_id": result.checkin_id,
        "time": clock.text(result.at, event.time_zone, "time"),
    }
    if isinstance(result, checkins.CheckinResult):
        data["checked_in_at"] = result.at.isoformat()
        return scanning.ScanOutcome("checked_in", data, template=RESULT_TEMPLATE)
    data.update(
        checked_out_at=result.at.isoformat(),
        minutes=result.minutes,
        points_awarded=result.points if result.status == "awarded" else 0,
        points_pending=result.points if result.status in ("pending", "unconfirmed") else 0,
        award_status=result.status,
    )
    return scanning.ScanOutcome("checked_out", data, template=RESULT_TEMPLATE)


async def _apply(
    conn: Connection, event: Any, user_id: int, action: str, method: str, by: int, log: scanning.ScanLog
) -> Any:
    if action == "checkin":
        return await checkins.check_in(conn, event, user_id, method=method, by=by, log=log)
    return await checkins.check_out(conn, event, user_id, method=method, by=by, log=log)


@scanning.handler("JE1", atomic=True)
async def kiosk_scan(
    conn: Connection, actor: Actor, request: scanning.ScanRequest, log: scanning.ScanLog
) -> scanning.ScanOutcome:
    parsed = codes.parse(request.code)
    if parsed is None:
        raise DomainError("code_invalid", 422)
    log.facts["event_id"] = parsed.event_id
    if request.event_id is not None and request.event_id != parsed.event_id:
        raise DomainError("code_invalid", 422, lazy("This code belongs to another event."))
    if request.action and request.action != parsed.action:
        raise DomainError(
            "code_invalid",
            422,
            lazy("This is a check-in code, not a check-out code.")
            if parsed.action == "checkin"
            else lazy("This is a check-out code, not a check-in code."),
        )
    event = await checkins.load_event_row(conn, parsed.event_id)
    reason = codes.check(parsed, codes.secret(), event.community_id, clock.now())
    if reason == "code_expired":
        raise DomainError("code_expired", 422, lazy("Code expired — scan the screen again."))
    if reason:
        raise DomainError(reason, 422)
    if not actor.is_member(event.community_id):
        raise Forbidden(NOT_YOUR_COMMUNITY)
    if not event.kiosk_enabled:
        raise Forbidden(lazy("This event does not use a kiosk; show your member code to the organiser."))
    result = await _apply(conn, event, actor.user_id, parsed.action, "kiosk", actor.user_id, log)
    return _outcome(event, actor.user_id, actor.display_name, result)


@scanning.handler("member@event", atomic=True)
async def member_scan(
    conn: Connection, actor: Actor, request: scanning.ScanRequest, log: scanning.ScanLog
) -> scanning.ScanOutcome:
    assert request.event_id is not None
    if request.action not in ("checkin", "checkout"):
        raise Invalid(lazy("Choose check-in or check-out first."), field="action")
    try:
        event = await checkins.load_event_row(conn, request.event_id)
    except DomainError:
        raise NotFound() from None
    if not actor.is_member(event.community_id):
        raise Forbidden(NOT_YOUR_COMMUNITY)
    if not services.can_act_for_members(actor, event):
        raise Forbidden(
            lazy("Only the event's organisers, grid workers and staff can scan members in or out.")
        )
    try:
        user_id = await resolve_member_code(conn, request.code)
    except DomainError as exc:
        if exc.code == "code_expired":
            raise DomainError("code_expired", 422, lazy("Code expired — show your phone again.")) from None
        raise
    name = await services.member_name(conn, event.community_id, user_id)
    if name is None:
        raise Forbidden(lazy("Not your community: this person is not a member of this community."))
    try:
        result = await _apply(conn, event, user_id, request.action, "witnessed", actor.user_id, log)
    except DomainError as exc:
        if exc.code != "not_signed_up" or user_id == actor.user_id:
            raise
        # The scanner is told who has not signed up, not "you"; whom, by id, so the scanner page
        # can offer to sign them up there and then (one on the waiting list waits for a place).
        whom = {} if exc.detail else {"user_id": user_id}
        raise DomainError(
            "not_signed_up",
            exc.status_code,
            lazy("%(name)s is on the waiting list for this event, not signed up yet.")
            if exc.detail
            else lazy("%(name)s has not signed up for this event."),
            words={"name": name},
            **exc.extra,
            **whom,
        ) from None
    return _outcome(event, user_id, name, result)
