"""The money pages anyone sees: a funding goal's public page (progress bar by source, named
donors, the donation form), and the offline test Stripe's clearly labelled test-payment page,
which completes or cancels a Checkout session and sends its signed webhook."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import form_keys
from app.core.authz import Actor
from app.core.errors import DomainError, NotFound
from app.core.i18n import gettext_for, request_lang
from app.core.settings import Settings
from app.core.web import error_message, form_data, render, reopen_form
from app.payments import contributions, fake, gateway, rules, services, targets


async def _fund_page(
    request: Request,
    db: AsyncSession,
    settings: Settings,
    actor: Actor | None,
    kind: str,
    target_id: int,
    status_code: int = 200,
    **extra: Any,
) -> Template:
    target = await services.visible_target(db, actor, kind, target_id)
    if target.goal_cents is None:
        raise NotFound()
    returned = await _return_notice(request, db, kind, target_id)
    if returned and request.query_params.get("part") == "1":
        funding = await contributions.funding_box(db, kind, target_id)
        return render(request, "payments/_paid.html", oob=True, funding=funding, **returned)
    config = gateway.config_for(settings)
    return render(
        request,
        "payments/fund.html",
        status_code=status_code,
        target=target,
        kind_label=registered.label if (registered := targets.kind(kind)) else kind,
        funding=await contributions.funding_box(db, kind, target_id),
        config=config,
        paid=bool(returned),
        form_key=form_keys.new(),
        **returned,
        **extra,
    )


# The return page asks for its notice again every few seconds while the payment waits for
# Stripe's word, for about a minute; the Refresh link asks by hand after that, or without JavaScript.
POLL_SECONDS, POLLS = 3, 20
PAID_STATES = {"open": "pending", "paid": "confirmed", "refunded": "confirmed", "expired": "expired"}


async def _return_notice(request: Request, db: AsyncSession, kind: str, target_id: int) -> dict[str, Any]:
    """What the page the donor returns to from Checkout says of the payment (?paid=1&session_id=…)."""
    query = request.query_params
    if query.get("paid") != "1":
        return {}
    session_id = (query.get("session_id") or "")[:255]
    status = await services.donation_status(db, kind, target_id, session_id) if session_id else None
    polls = int(n) if (n := query.get("n", "")).isdigit() and len(n) < 4 else 0
    page = f"/fund/{kind}/{target_id}?" + urlencode({"paid": "1", "session_id": session_id})
    return {
        "paid_state": PAID_STATES.get(status or "open", "pending"),
        "polling": status == "open" and polls < POLLS,
        "poll_url": f"{page}&" + urlencode({"part": "1", "n": polls + 1}),
        "poll_seconds": POLL_SECONDS,
        "refresh_url": page if session_id else "?paid=1",
    }


async def _donate(
    request: Request, db: AsyncSession, settings: Settings, actor: Actor | None, kind: str, target_id: int
) -> Template | Redirect:
    form = await form_data(request)
    try:
        amount = rules.parse_yuan(form.get("amount", ""))
        if amount is None:
            raise rules.not_an_amount()
        donation = await services.donate(
            db,
            settings,
            actor,
            kind,
            target_id,
            amount_cents=amount,
            key=form.get("key", "") or form_keys.new(),
            display_name=form.get("display_name", ""),
            show_name=form.get("show_name") == "1",
            contact=form.get("contact", ""),
            back_url=f"{str(request.base_url).rstrip('/')}/fund/{kind}/{target_id}",
        )
    except DomainError as exc:
        await reopen_form(db, exc)
        return await _fund_page(
            request,
            db,
            settings,
            actor,
            kind,
            target_id,
            status_code=exc.status_code,
            error=error_message(request, exc),
            form=form,
        )
    return Redirect(donation.checkout_url, status_code=303)


@get("/fund/wish/{wish_id:int}", include_in_schema=False)
async def wish_fund_page(
    request: Request, wish_id: int, db_session: AsyncSession, settings: Settings, maybe_actor: Actor | None
) -> Template:
    """A wish's funding: who gave how much (by source), and a donation form open to anyone."""
    return await _fund_page(request, db_session, settings, maybe_actor, "wish", wish_id)


@post("/fund/wish/{wish_id:int}", include_in_schema=False)
async def wish_donate(
    request: Request, wish_id: int, db_session: AsyncSession, settings: Settings, maybe_actor: Actor | None
) -> Template | Redirect:
    return await _donate(request, db_session, settings, maybe_actor, "wish", wish_id)


@get("/fund/project/{project_id:int}", include_in_schema=False)
async def project_fund_page(
    request: Request, project_id: int, db_session: AsyncSession, settings: Settings, maybe_actor: Actor | None
) -> Template:
    """A project's co-funding (政府补一点、社会筹一点、居民凑一点) and a donation form."""
    return await _fund_page(request, db_session, settings, maybe_actor, "project", project_id)


@post("/fund/project/{project_id:int}", include_in_schema=False)
async def project_donate(
    request: Request, project_id: int, db_session: AsyncSession, settings: Settings, maybe_actor: Actor | None
) -> Template | Redirect:
    return await _donate(request, db_session, settings, maybe_actor, "project", project_id)


# ---------------------------------------------------------------- the test-payment page


def _offline_config(settings: Settings) -> gateway.PaymentConfig:
    config = gateway.config_for(settings)
    if config is None or not config.offline:
        raise NotFound()
    return config


async def _offline_session(db: AsyncSession, checkout_session: str) -> dict[str, Any]:
    try:
        return await fake.get_session(db, checkout_session)
    except fake.FakeError:
        raise NotFound() from None


@get(gateway.OFFLINE_PATH + "/pay/{checkout_session:str}", include_in_schema=False)
async def offline_checkout(
    request: Request, checkout_session: str, db_session: AsyncSession, settings: Settings
) -> Template:
    """The demo's stand-in for Stripe Checkout: no money moves, and the page says so."""
    _offline_config(settings)
    session = await _offline_session(db_session, checkout_session)
    # Each method as people call it (微信支付), not Stripe's name of it (wechat_pay).
    _ = gettext_for(request)
    named = [
        _(rules.METHOD_LABELS[m]) if m in rules.METHOD_LABELS else m for m in session["payment_method_types"]
    ]
    methods = ("、" if request_lang(request) == "zh" else ", ").join(named)
    return render(request, "payments/offline_checkout.html", session=session, methods=methods)


@post(gateway.OFFLINE_PATH + "/pay/{checkout_session:str}", include_in_schema=False)
async def offline_checkout_answer(
    request: Request, checkout_session: str, db_session: AsyncSession, settings: Settings
) -> Redirect:
    config = _offline_config(settings)
    session = await _offline_session(db_session, checkout_session)
    form = await form_data(request)
    if form.get("outcome") == "pay":
        event, target = await fake.complete(db_session, checkout_session), fake.success_target(session)
    else:
        event, target = await fake.expire(db_session, checkout_session), session["cancel_url"]
    # Sent after the answer, once the session's row is committed, as Stripe does.
    task = BackgroundTask(fake.send, config, event) if event else None
    return Redirect(target, status_code=303, background=task)


route_handlers = [
    wish_fund_page,
    wish_donate,
    project_fund_page,
    project_donate,
    offline_checkout,
    offline_checkout_answer,
]
