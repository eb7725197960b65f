"""What the service circle's admin pages show (app.circle.admin_pages routes to them and reads
their forms): the community's overview, a provider's page, the form of a new offer, a month's
statements and the confirmation before one is closed or marked paid, and the statements' files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, Response
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.circle import exports as circle_exports
from app.circle import rules, services, statements
from app.circle.models import Offer
from app.circle.statements import FUND_LABELS, STATEMENT_LABELS
from app.circle.views import OFFER_LABELS
from app.core import clock, exports, fields, form_keys, organisations
from app.core import photos as core_photos
from app.core.authz import Actor
from app.core.errors import Invalid, NotFound
from app.core.figures import Scope
from app.core.i18n import gettext_for, lazy
from app.core.rendering import currency_of
from app.core.web import client_address, error_message, render
from app.places.models import Community, Compound
from app.places.services import community_for

NO_CATEGORY = lazy("No category")


async def overview(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
    typed_for: str = "",
) -> Template:
    """The circle's admin page; after a refused form, that form (`typed_for`: "settings" or
    "compound-<id>") shows what was typed (`typed`), not what is stored."""
    community = await community_for(db_session, actor, community_id, "admin")
    offers = (
        await db_session.scalars(
            select(Offer)
            .where(Offer.community_id == community_id)
            .order_by(Offer.status != "pending", Offer.id.desc())
        )
    ).all()
    providers = await services.providers_of_community(db_session, actor, community_id)
    names = {p.ref.id: p.ref.name for p in providers}
    compounds = (
        await db_session.scalars(
            select(Compound).where(Compound.community_id == community_id).order_by(Compound.id)
        )
    ).all()
    return render(
        request,
        "circle/admin.html",
        status_code=status_code,
        community=community,
        providers=providers,
        offers=offers,
        stars=await services.ratings_of(db_session, [o.id for o in offers]),
        names=names,
        kinds={p.ref.id: p.ref.category for p in providers},
        service_category=rules.service_category,
        offer_labels=OFFER_LABELS,
        compounds=compounds,
        settings=await services.settings_of(db_session, community_id),
        funds=FUND_LABELS,
        error=error,
        notice=notice,
        typed=typed or {},
        typed_for=typed_for if typed else "",
    )


async def provider_form(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    provider_id: int,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Template:
    provider = (await organisations.providers(db_session, [provider_id])).get(provider_id)
    if provider is None:
        raise NotFound()
    community = await community_for(db_session, actor, provider.community_id, "admin")
    view = (await services.provider_views(db_session, [provider]))[0]
    gettext = gettext_for(request)
    return render(
        request,
        "circle/admin_provider.html",
        status_code=status_code,
        community=community,
        view=view,
        provider=provider,
        categories=[
            (code, rules.service_category(code).words(gettext) or gettext(NO_CATEGORY))
            for code in rules.category_choices(provider.category)
        ],
        error=error,
        form=form or {},
    )


async def offer_form(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    provider_id: int,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    photo_error: str | None = None,
) -> Template:
    provider = await services.provider_for(db_session, actor, provider_id, admin=True)
    return render(
        request,
        "circle/offer_new.html",
        status_code=status_code,
        provider=provider,
        by_admin=actor.has(provider.community_id, "admin"),
        error=error,
        photo_error=photo_error,
        max_photo_bytes=core_photos.MAX_BYTES,
        form=form or {},
        form_key=form_keys.new(),
    )


def _recent_months(this_month: date, count: int) -> list[date]:
    months = [this_month]
    while len(months) < count:
        months.append(clock.previous_month(months[-1]))
    return months


@dataclass(frozen=True)
class _StatementPage:
    """What every statement page is built on: the community, the month it shows and this month
    where the community is."""

    community: Community
    month: date
    this_month: date

    def shown(self) -> dict[str, Any]:
        """What each page's template reads of it: the community, whether the month may be closed
        yet (it has ended), and the words of the funds and the statuses."""
        return {
            "community": self.community,
            "closable": rules.may_close(self.month, clock.now(), self.community.time_zone),
            "funds": FUND_LABELS,
            "labels": STATEMENT_LABELS,
        }


async def _statement_page(
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    month: str | None,
    *,
    provider_id: int | None = None,
) -> _StatementPage:
    """A statement page's community, for its admins only (and the provider, where the page is of
    one, serving it), and its month: `month` as YYYY-MM (refused where it is none; for None, the
    month before this one where the community is)."""
    community = await community_for(db_session, actor, community_id, "admin")
    if provider_id is not None:
        await statements.require_serving(db_session, provider_id, community_id)
    this_month = clock.month_of(clock.now(), community.time_zone)
    if month is None:
        chosen = clock.previous_month(this_month)
    else:
        chosen = fields.month(month)
    return _StatementPage(community, chosen, this_month)


async def month_statements(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    month: str,
    *,
    done: str = "",
    provider_id: int | None = None,
) -> Template:
    """A month's statements, provider by provider, and its cash parts (the month before this one
    unless `month` names another); after a month is closed or marked paid (`done`), which
    provider's it was, said above the table, whose rows all look alike. A month that is none is
    refused as the store's report refuses one: the reason above the month before this one."""
    error = None
    try:
        page = await _statement_page(db_session, actor, community_id, month or None)
    except Invalid as exc:
        error = error_message(request, exc)
        page = await _statement_page(db_session, actor, community_id, None)
    figures = await statements.community_statements(db_session, actor, community_id, page.month)
    recent = _recent_months(page.this_month, 6)
    return render(
        request,
        "circle/statements.html",
        status_code=422 if error else 200,
        error=error,
        month=page.month,
        month_text=clock.month_text(page.month),
        months=[clock.month_text(m) for m in recent],
        # Older months a statement still waits in, a button each: past the six they were unseen.
        waiting_months=[
            clock.month_text(m)
            for m in await statements.months_to_settle_before(
                db_session, community_id, recent[-1], page.community.time_zone
            )
        ],
        figures=figures,
        cash_lines=await statements.cash_lines(db_session, community_id, page.month),
        names={f.organisation_id: f.name for f in figures},
        done=done if done in ("closed", "paid") else "",
        done_figures=next((f for f in figures if f.organisation_id == provider_id), None),
        **page.shown(),
    )


async def statement_confirmation(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    provider_id: int,
    month_text: str | None,
    step: str,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    """The confirmation before a provider's month (None: the month before this one) is closed or
    marked paid."""
    page = await _statement_page(db_session, actor, community_id, month_text, provider_id=provider_id)
    found = await statements.month_figures(db_session, community_id, page.month, provider_id)
    if not found or not found[0].name:
        raise NotFound()
    return render(
        request,
        "circle/statement_confirm.html",
        status_code=status_code,
        figures=found[0],
        step="paid" if step == "paid" else "close",
        error=error,
        **page.shown(),
    )


async def statements_file(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    month: str,
    fmt: str,
    part: str,
) -> Response[bytes]:
    """A month's statements as the circle's export (app.core.exports), or with `part=cash` its
    cash parts voucher by voucher: one writer, one way of naming files and one audit entry for
    every export taken."""
    community = await community_for(db_session, actor, community_id, "admin")
    scope = Scope.of_month(community.id, fields.month(month), community.time_zone)
    found = exports.get(circle_exports.CASH if part == "cash" else circle_exports.NAME)
    return await exports.taken_file(
        db_session,
        actor=actor,
        export=found,
        scope=scope,
        fmt=fmt,
        rows=await found.fn(db_session, scope),
        gettext=gettext_for(request),
        currency=currency_of(request),
        address=client_address(request),
    )
