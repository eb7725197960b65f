"""The approval queue's page: approve, adjust or reject stays and claimed hours, and the
admins' honour hours (a part of app.events.admin_pages that grew past the house's 600 lines)."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import people
from app.accounts.models import Membership, User
from app.core import clock, form_keys
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.fields import parse_id
from app.core.i18n import lazy
from app.core.web import client_address, error_message, optional_int, render, reopen_form
from app.events import approvals, hours, rules
from app.events.models import CATEGORIES, Checkin, HourClaim
from app.ledger.services import ASKED_AGAIN
from app.places.models import Community


@get("/admin/c/{community_id:int}/approvals", include_in_schema=False)
async def approvals_page(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    done: str = "",
    q: str = "",
    stays: str = "",
    claims: str = "",
    people_page: str = "",
) -> Template:
    return await _approvals(
        request,
        db_session,
        actor,
        community_id,
        notice=lazy("Saved.") if done else None,
        q=q.strip()[:50],
        pages=(optional_int(stays), optional_int(claims)),
        people_page=optional_int(people_page),
    )


async def _approvals(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
    q: str = "",
    pages: tuple[int | None, int | None] = (None, None),
    ask_again: dict[str, object] | None = None,
    people_page: int | None = None,
    searching: bool = False,
) -> Template:
    """The queue (`pages`: the page of its stays and of its claimed hours); after a refused
    decision, the form it came from keeps what the admin typed (`form`: the points and the reason
    of that stay or claim, or the honour hours' fields). The honour hours' person is chosen from a
    page of PEOPLE_PAGE (`people_page`), found by name or phone (`q`), inside the form
    (`searching`: its Find or a page of those found sent it back); the one chosen before stays
    listed. `ask_again`: a payment of ASKED_AGAIN points or more to ask about once
    more before it is made (`_large_award`), the form's fields kept."""
    if not actor.is_member(community_id):
        raise NotFound()
    queue = await approvals.approval_queue(db_session, actor, community_id, *pages)
    community = await db_session.get(Community, community_id)
    members = people.placed(
        select(User.id, User.display_name).join(Membership, Membership.user_id == User.id)
    ).where(Membership.community_id == community_id)
    # A new search leaves the person chosen before for those it finds.
    chosen = None if "find" in (form or {}) else optional_int((form or {}).get("user_id"))
    choices = await people.paged(
        db_session,
        community_id,
        members,
        q,
        people_page or 1,
        PEOPLE_PAGE,
        [] if chosen is None else [chosen],
    )
    kept = {k: v for k, v in (("stays", pages[0]), ("claims", pages[1])) if v}
    return render(
        request,
        "events/approvals.html",
        q=q,
        searching=searching,
        honour_action=f"/admin/c/{community_id}/approvals" + (f"?{urlencode(kept)}" if kept else ""),
        status_code=status_code,
        ask_again=ask_again,
        community=community,
        notice=notice,
        error=error,
        form=form or {},
        form_key=form_keys.new(),
        labels=rules.CATEGORY_LABELS,
        people=choices,
        categories=CATEGORIES,
        today=clock.today(community.time_zone if community else None).isoformat(),
        # The stays nothing flags, approved in one step after a crowded event (each box ticked
        # by hand was hundreds of ticks).
        plain_ids=[s.id for s, _t, _n in queue["stays"] if not s.flagged and s.award_status == "pending"],
        **queue,
    )


# The honour hours' form lists its people this many a page, found by name or phone
# (templates/_person_picker.html).
PEOPLE_PAGE = 10
DECISIONS = ("bulk", "approve", "adjust", "reject", "claim_approve", "claim_reject")
# The forms that pay a number of points typed by the admin, the fields each sends back when it is
# asked about once more (ASKED_AGAIN or more: 2000 typed for 20 was paid at once), and the field
# the admin goes back to when the number was wrong.
TYPED_POINTS = {
    "honour": (
        (
            "action",
            "key",
            "user_id",
            "what",
            "category",
            "worked_on",
            "hours",
            "minutes",
            "converts_to_points",
        ),
        "hpoints",
    ),
    "adjust": (("action", "checkin_id", "reason", "confirm"), "points-{checkin_id}"),
    "claim_approve": (("action", "claim_id", "reason", "confirm"), "cpoints-{claim_id}"),
}


async def _large_award(
    session: AsyncSession, community_id: int, form: dict[str, str]
) -> dict[str, object] | None:
    """What to ask about once more before a form pays ASKED_AGAIN points or more: the points, the
    person's name (of this community's rows only; another's ids go on to the service, which
    refuses them), the fields to send again and where to correct the number; None: nothing."""
    action = form.get("action", "")
    points = optional_int(form.get("points")) or 0
    if action not in TYPED_POINTS or points < ASKED_AGAIN or form.get("again") == "1":
        return None
    if action == "honour" and form.get("converts_to_points") != "1":
        return None
    if action == "honour":
        who = select(User.display_name).where(
            User.id == optional_int(form.get("user_id")),
            User.id.in_(select(Membership.user_id).where(Membership.community_id == community_id)),
        )
    elif action == "adjust":
        who = (
            select(User.display_name)
            .join(Checkin, Checkin.user_id == User.id)
            .where(Checkin.id == optional_int(form.get("checkin_id")), Checkin.community_id == community_id)
        )
    else:
        who = (
            select(User.display_name)
            .join(HourClaim, HourClaim.user_id == User.id)
            .where(HourClaim.id == optional_int(form.get("claim_id")), HourClaim.community_id == community_id)
        )
    name = await session.scalar(who)
    if name is None:
        return None
    fields, anchor = TYPED_POINTS[action]
    return {
        "points": points,
        "name": name,
        "action": action,
        "fields": (*fields, "points"),
        "anchor": anchor.format(**form) if "{" in anchor else anchor,
    }


@post("/admin/c/{community_id:int}/approvals", include_in_schema=False)
async def approvals_submit(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    q: str = "",
    stays: str = "",
    claims: str = "",
) -> Template | Redirect:
    """A decision sent from the queue's page: the forms post to the page's own address, so the
    pages of its two lists and the person searched (`stays`, `claims`, `q`) come back with it, and
    a refused decision is shown again on the page its form was on, a done one on the same pages."""
    pages = (optional_int(stays), optional_int(claims))
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items() if isinstance(v, str)}
    action = form.get("action", "")
    q = form.get("q", q)  # the honour hours' form sends its search's words
    kept = urlencode(
        {k: v for k, v in (("q", q.strip()[:50]), ("stays", pages[0]), ("claims", pages[1])) if v}
    )
    if "find" in form or "people_page" in form:
        # The honour hours' Find or a page of those found: the form comes back as typed, unsaved.
        return await _approvals(
            request,
            db_session,
            actor,
            community_id,
            form=form,
            q=q.strip()[:50],
            pages=pages,
            people_page=optional_int(form.get("people_page")),
            searching=True,
        )
    address = client_address(request)
    try:
        # Every decision here pays points or refuses them for good: only a reversal undoes it.
        if action in DECISIONS and form.get("confirm") != "1":
            raise Invalid(lazy("Tick the box to confirm."), field="confirm")
        asked = await _large_award(db_session, community_id, form)
        if asked is not None:
            return await _approvals(
                request,
                db_session,
                actor,
                community_id,
                form=form,
                q=q.strip()[:50],
                pages=pages,
                ask_again=asked,
            )
        if action == "bulk":
            ids = (
                [i for v in raw.getall("checkin_ids") if (i := parse_id(str(v))) is not None]
                if "checkin_ids" in raw
                else []
            )
            await approvals.approve(db_session, actor, ids, address)
        elif action in ("approve", "adjust", "reject"):
            checkin_id = optional_int(form.get("checkin_id"))
            if checkin_id is None:
                raise NotFound()
            if action == "approve":
                await approvals.approve(db_session, actor, [checkin_id], address)
            elif action == "adjust":
                points = optional_int(form.get("points"))
                if points is None:
                    raise Invalid(lazy("Please enter a whole number."), field="points")
                await approvals.adjust(db_session, actor, checkin_id, points, form.get("reason", ""), address)
            else:
                await approvals.reject(db_session, actor, checkin_id, form.get("reason", ""), address)
        elif action in ("claim_approve", "claim_reject"):
            claim_id = optional_int(form.get("claim_id"))
            if claim_id is None:
                raise NotFound()
            await hours.decide_claim(
                db_session,
                actor,
                claim_id,
                approve_it=action == "claim_approve",
                points=optional_int(form.get("points")) or 0,
                reason=form.get("reason", ""),
                address=address,
            )
        elif action == "honour":
            user_id = optional_int(form.get("user_id"))
            if user_id is None:
                raise Invalid(lazy("Please choose a person."), field="user_id")
            points = optional_int(form.get("points")) or 0
            await hours.enter_honour_hours(
                db_session,
                actor,
                community_id,
                user_id,
                hours.claim_from_form(form),
                points=points,
                converts_to_points=form.get("converts_to_points") == "1",
                address=address,
                form_key=form.get("key"),
            )
        else:
            raise Invalid()
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _approvals(
            request,
            db_session,
            actor,
            community_id,
            error=error_message(request, exc),
            form=form,
            status_code=exc.status_code,
            q=q.strip()[:50],
            pages=pages,
        )
    return Redirect(f"/admin/c/{community_id}/approvals?done=1{'&' + kept if kept else ''}", status_code=303)
