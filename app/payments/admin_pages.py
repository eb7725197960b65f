"""The community admin's money pages: every funding goal with its progress, one goal's
contributions and donations (recording government, partner-unit and residents' cash money on a
form; refunding an online donation after a confirmation, audited), and the export of every
contribution as CSV or XLSX. A street admin sees the figures; only the community's admin sees
donors' contact data, and only they may take the export of every contribution (app.payments.exports:
the exports page's, made by a job behind a progress page when it is long)."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import exports, form_keys, money, paging
from app.core.authz import Actor
from app.core.errors import DomainError, NotFound
from app.core.i18n import gettext_for, lazy
from app.core.settings import Settings
from app.core.uow import Sql
from app.core.web import (
    client_address,
    error_message,
    form_data,
    optional_int,
    render,
    reopen_form,
    reopen_page,
)
from app.payments import contributions, corrections, gateway, refunds, rules, targets
from app.payments import exports as payments_exports
from app.payments import home as _home  # noqa: F401 - registers its share of the home page
from app.places.models import Community

# The refunds Stripe refused for good that still wait to be asked again, newest first: a paid
# payment's, as refunds.ask_again takes. One whose money went back after all (its lost
# charge.refunded came) has nothing left to ask.
_REFUSED = Sql(
    "SELECT id, kind, ref_id, target_kind, target_id, amount_cents, refunded_cents, refund_refused_at, "
    "refund_refusal FROM payments WHERE community_id = :c AND refund_refused_at IS NOT NULL "
    "AND status = 'paid' ORDER BY refund_refused_at DESC, id DESC LIMIT :n OFFSET :o"
)
_REFUSED_COUNT = Sql(
    "SELECT count(*) FROM payments WHERE community_id = :c AND refund_refused_at IS NOT NULL "
    "AND status = 'paid'"
)
# The refunds Stripe refused are listed this many a page, the latest first.
REFUSED_PAGE = 50
KIND_LABELS = {"donation": lazy("Donation"), "voucher": lazy("Cash part of a service voucher")}
NOTICES = {
    "recorded": lazy("The contribution is recorded."),
    "corrected": lazy("The correction is recorded beside the entry it corrects."),
    "refund": lazy("The refund is asked of Stripe; the total goes down once Stripe confirms it."),
    "asked_again": lazy("The refund is asked of Stripe again."),
    "refused_again": lazy("Stripe refused the refund again. Its reason is in the list below."),
}
STATUS_LABELS = {
    "open": lazy("Waiting for payment"),
    "paid": lazy("Paid"),
    "expired": lazy("Not paid"),
    "refunded": lazy("Refunded"),
}


async def _community(db: AsyncSession, actor: Actor, community_id: int) -> Community:
    community = await db.get(Community, community_id)
    if community is None:
        raise NotFound()
    contributions.require_money_reader(actor, community_id)
    return community


# The goals page lists this many wishes and projects a page (each with its progress).
GOALS_PAGE = 30


@get("/payments/admin/c/{community_id:int}", include_in_schema=False)
async def goals_page(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    settings: Settings,
    page: str = "",
    refused: str = "",
) -> Template:
    """Every wish and project of the community with a funding goal, and how far each has got, a
    page at a time with their count; above them the refunds Stripe refused, paged alike."""
    community = await _community(db_session, actor, community_id)
    refused_total = int(await _REFUSED_COUNT.fetchval(db_session, {"c": community_id}) or 0)
    refused_at = paging.window(refused_total, optional_int(refused), REFUSED_PAGE)
    every = await targets.with_goal(db_session, community_id)
    at = paging.window(len(every), optional_int(page), GOALS_PAGE)
    shown = every[at.offset : at.offset + GOALS_PAGE]
    goals = list(zip(shown, await contributions.progress_of_page(db_session, shown), strict=True))
    registered = targets.kinds()
    return render(
        request,
        "payments/admin_goals.html",
        community=community,
        goals=goals,
        goals_total=len(every),
        page=at.number,
        pages=at.pages,
        refused=await _REFUSED.fetch(
            db_session, {"c": community_id, "n": REFUSED_PAGE, "o": refused_at.offset}
        ),
        refused_total=refused_total,
        refused_at=refused_at,
        payment_kinds=KIND_LABELS,
        is_admin=actor.has(community_id, "admin"),
        notice=_notice(request),
        kind_labels={name: k.label for name, k in registered.items()},
        config=gateway.config_for(settings),
        may_export=exports.get(payments_exports.NAME).allows(actor, community_id),
        with_contacts=exports.get(payments_exports.NAME).shows_contacts(actor, community_id),
    )


# A goal's page lists its contributions and donations this many a page, the newest first.
LINES_PAGE = 100


async def _goal_page(
    request: Request,
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    kind: str,
    target_id: int,
    status_code: int = 200,
    page: int | None = None,
    **extra: Any,
) -> Template:
    target = await targets.find(db, kind, target_id)
    if target is None or target.goal_cents is None:
        raise NotFound()
    community = await _community(db, actor, target.community_id)
    registered = targets.kind(kind)
    total = await contributions.count_lines(db, actor, target)
    at = paging.window(total, page, LINES_PAGE)
    return render(
        request,
        "payments/admin_goal.html",
        status_code=status_code,
        community=community,
        target=target,
        kind_label=registered.label if registered else kind,
        funding=await contributions.funding_box(db, kind, target_id),
        lines=await contributions.lines(db, actor, target, limit=LINES_PAGE, offset=at.offset),
        lines_total=total,
        page=at.number,
        pages=at.pages,
        is_admin=actor.has(target.community_id, "admin"),
        sees_contact=actor.has(target.community_id, "admin"),
        source_labels=rules.SOURCE_LABELS,
        recorded_sources=rules.RECORDED_SOURCES,
        status_labels=STATUS_LABELS,
        amount=money.amount,
        config=gateway.config_for(settings),
        notice=extra.pop("notice", None) or _notice(request),
        form_key=form_keys.new(),
        **extra,
    )


def _notice(request: Request) -> str | None:
    key = request.query_params.get("done")
    return gettext_for(request)(NOTICES[key]) if key in NOTICES else None


def _typed_amount(form: dict[str, str]) -> int:
    """The form's amount in yuan, as cents; refused in words when it is not one."""
    amount = rules.parse_yuan(form.get("amount", ""))
    if amount is None:
        raise rules.not_an_amount()
    return amount


async def _record(
    request: Request, db: AsyncSession, actor: Actor, settings: Settings, kind: str, target_id: int
) -> Template | Redirect:
    form = await form_data(request)
    target = await targets.find(db, kind, target_id)
    if target is None or target.goal_cents is None:
        raise NotFound()
    try:
        amount = _typed_amount(form)
        if amount > target.goal_cents and form.get("again") != str(amount):
            # More than the whole goal is a typo as often as not (a zero too many), and a recorded
            # contribution stays: asked once more, with the form as it was typed.
            return await _goal_page(
                request, db, actor, settings, kind, target_id, form=form, ask_again=amount
            )
        await contributions.record_contribution(
            db,
            actor,
            target,
            source=form.get("source", ""),
            amount_cents=amount,
            name=form.get("name", ""),
            show_name=form.get("show_name") == "1",
            note=form.get("note", ""),
            address=client_address(request),
            key=form.get("key"),
        )
    except DomainError as exc:
        return await reopen_page(
            request, db, exc, partial(_goal_page, request, db, actor, settings, kind, target_id), form=form
        )
    return Redirect(f"/payments/admin/{kind}/{target_id}?done=recorded", status_code=303)


@get("/payments/admin/wish/{wish_id:int}", include_in_schema=False)
async def wish_goal_page(
    request: Request, wish_id: int, actor: Actor, db_session: AsyncSession, settings: Settings, page: str = ""
) -> Template:
    return await _goal_page(request, db_session, actor, settings, "wish", wish_id, page=optional_int(page))


@post("/payments/admin/wish/{wish_id:int}/contributions", include_in_schema=False)
async def wish_record(
    request: Request, wish_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    return await _record(request, db_session, actor, settings, "wish", wish_id)


@get("/payments/admin/project/{project_id:int}", include_in_schema=False)
async def project_goal_page(
    request: Request,
    project_id: int,
    actor: Actor,
    db_session: AsyncSession,
    settings: Settings,
    page: str = "",
) -> Template:
    return await _goal_page(
        request, db_session, actor, settings, "project", project_id, page=optional_int(page)
    )


@post("/payments/admin/project/{project_id:int}/contributions", include_in_schema=False)
async def project_record(
    request: Request, project_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    return await _record(request, db_session, actor, settings, "project", project_id)


@post("/payments/admin/contributions/{contribution_id:int}/correct", include_in_schema=False)
async def correct(
    request: Request, contribution_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    """A recorded contribution corrected to the amount it should be, with the reason, after the
    box is ticked: the correction stays in the list for good (app.payments.corrections)."""
    community_id, kind, target_id = await corrections.target_of(db_session, contribution_id)
    actor.require(community_id, "admin")
    form = await form_data(request)
    try:
        if form.get("confirm") != "1":
            raise DomainError("validation_error", 422, lazy("Tick the box to confirm."))
        amount = _typed_amount(form)
        await corrections.correct_contribution(
            db_session,
            actor,
            contribution_id,
            amount_cents=amount,
            reason=form.get("reason", ""),
            address=client_address(request),
        )
    except DomainError as exc:
        return await reopen_page(
            request,
            db_session,
            exc,
            # the page the form was on, where the entry and its form are shown again
            partial(
                _goal_page,
                request,
                db_session,
                actor,
                settings,
                kind,
                target_id,
                page=optional_int(form.get("page")),
            ),
            correcting=contribution_id,
            correction=form,
        )
    return Redirect(f"/payments/admin/{kind}/{target_id}?done=corrected", status_code=303)


_PAYMENT = Sql(
    "SELECT id, community_id, kind, target_kind, target_id, amount_cents, refunded_cents, status, "
    "display_name, refund_requested_at, refund_refused_at, refund_refusal, created_at "
    "FROM payments WHERE id = :id"
)


async def _payment(db: AsyncSession, actor: Actor, payment_id: int) -> Any:
    row = await _PAYMENT.fetchrow(db, {"id": payment_id})
    if row is None or row["kind"] != "donation":
        raise NotFound()
    actor.require(int(row["community_id"]), "admin")
    return row


async def _refund_asked(db: AsyncSession, payment_id: int) -> bool:
    """Its refund asked of Stripe and not refused (waiting for Stripe's answer, or done)."""
    row = await _PAYMENT.fetchrow(db, {"id": payment_id})
    return row is not None and row["refund_requested_at"] is not None and row["refund_refused_at"] is None


@get("/payments/admin/payments/{payment_id:int}/refund", include_in_schema=False)
async def refund_confirm(
    request: Request, payment_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    """Asks before a refund: it cannot be undone."""
    payment = await _payment(db_session, actor, payment_id)
    target = await targets.find(db_session, payment["target_kind"], int(payment["target_id"]))
    return render(
        request,
        "payments/refund.html",
        payment=payment,
        target=target,
        refundable=payment["status"] == "paid" and payment["refund_requested_at"] is None,
        status_labels=STATUS_LABELS,
    )


@post("/payments/admin/payments/{payment_id:int}/refund", include_in_schema=False)
async def refund(
    request: Request, payment_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    payment = await _payment(db_session, actor, payment_id)
    back = f"/payments/admin/{payment['target_kind']}/{payment['target_id']}"
    try:
        await refunds.request_refund(db_session, settings, actor, payment_id, client_address(request))
    except DomainError as exc:
        await reopen_form(db_session, exc)
        if exc.code == "already_done" and await _refund_asked(db_session, payment_id):
            # The form sent again (a double tap): the refund it asks for is asked already (once per
            # payment row), so it lands where the first sending landed.
            return Redirect(back + "?done=refund", status_code=303)
        target = await targets.find(db_session, payment["target_kind"], int(payment["target_id"]))
        return render(
            request,
            "payments/refund.html",
            status_code=exc.status_code,
            payment=payment,
            target=target,
            refundable=False,
            status_labels=STATUS_LABELS,
            error=error_message(request, exc),
        )
    return Redirect(back + "?done=refund", status_code=303)


async def _refused(db: AsyncSession, actor: Actor, payment_id: int) -> Any:
    row = await _PAYMENT.fetchrow(db, {"id": payment_id})
    if row is None:
        raise NotFound()
    actor.require(int(row["community_id"]), "admin")
    return row


@get("/payments/admin/payments/{payment_id:int}/ask-again", include_in_schema=False)
async def ask_again_confirm(
    request: Request, payment_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    """Asks before a refused refund is asked of Stripe again: a refund cannot be undone."""
    payment = await _refused(db_session, actor, payment_id)
    return render(
        request,
        "payments/ask_again.html",
        payment=payment,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        waiting=payment["refund_refused_at"] is not None and payment["status"] == "paid",
    )


@post("/payments/admin/payments/{payment_id:int}/ask-again", include_in_schema=False)
async def ask_again(
    request: Request, payment_id: int, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Template | Redirect:
    payment = await _refused(db_session, actor, payment_id)
    back = f"/payments/admin/c/{payment['community_id']}"
    try:
        await refunds.ask_again(db_session, settings, actor, payment_id, client_address(request))
    except refunds.RefundRefused:
        # Refused again: its new reason is kept (the redirect commits it) and listed.
        return Redirect(back + "?done=refused_again", status_code=303)
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return render(
            request,
            "payments/ask_again.html",
            status_code=exc.status_code,
            payment=payment,
            kind_labels=KIND_LABELS,
            status_labels=STATUS_LABELS,
            waiting=False,
            error=error_message(request, exc),
        )
    return Redirect(back + "?done=asked_again", status_code=303)


def _contributions(actor: Actor, community_id: int) -> exports.Export:
    """The contributions' export, for whoever may take it (its donors' contacts for the community's
    admin only)."""
    found = exports.get(payments_exports.NAME)
    found.require(actor, community_id)
    return found


async def _to_export(db: AsyncSession, actor: Actor, community_id: int, fmt: str) -> Redirect:
    """The contributions' file is the export of app.core.exports, taken where every export is:
    made at once, or by a job behind a progress page when it is long, and audited."""
    await _community(db, actor, community_id)
    found = _contributions(actor, community_id)
    return Redirect(f"/admin/c/{community_id}/exports/{found.name}.{fmt}", status_code=303)


@get("/payments/admin/c/{community_id:int}/contributions.csv", include_in_schema=False)
async def export_csv(community_id: int, actor: Actor, db_session: AsyncSession) -> Redirect:
    return await _to_export(db_session, actor, community_id, "csv")


@get("/payments/admin/c/{community_id:int}/contributions.xlsx", include_in_schema=False)
async def export_xlsx(community_id: int, actor: Actor, db_session: AsyncSession) -> Redirect:
    return await _to_export(db_session, actor, community_id, "xlsx")


route_handlers = [
    goals_page,
    wish_goal_page,
    wish_record,
    project_goal_page,
    project_record,
    correct,
    refund_confirm,
    refund,
    ask_again_confirm,
    ask_again,
    export_csv,
    export_xlsx,
]
