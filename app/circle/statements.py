"""Monthly statements per provider (and community): vouchers redeemed, their points, the cash due
at the community's rate and the fund that pays it. An open month is counted from the vouchers;
the admin closes a month that has ended (the figures are kept, immutable: migration 0019's
trigger), which moves its points from the provider's account to the community's settled account
through the ledger; then marks it paid. Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.circle import rules
from app.circle.models import Statement
from app.circle.services import provider_for, settings_of
from app.core import audit, clock, organisations, uow
from app.core.authz import Actor
from app.core.errors import DomainError, NotFound
from app.core.i18n import lazy
from app.core.uow import connection_of
from app.ledger import services as ledger
from app.places.services import community_for, time_zone_of

# The words of a statement's fund and status, on its pages and in its export.
FUND_LABELS = {
    "public_finance": lazy("Public finance (财政)"),
    "party_dues": lazy("Party dues subsidy (党费补助)"),
    "social_support": lazy("Social support (社会支持)"),
    "own_income": lazy("Own income (自主创收)"),
}
# A month's statement has words of its own: "Open" and "Closed" are an event's words in the shared
# catalog (进行中, 已结束), which read as if November were still going on.
STATEMENT_LABELS = {
    "open": lazy("Not closed yet"),
    "closed": lazy("Closed, not paid yet"),
    "paid": lazy("Paid"),
}


@dataclass(frozen=True)
class Figures:
    community_id: int
    organisation_id: int
    name: str
    month: date
    vouchers: int
    points: int
    fen_per_point: int
    cash_cents_due: int
    fund: str
    status: str  # "open" | "closed" | "paid"
    # The cash parts of the month's vouchers, paid through Stripe Checkout, less what was refunded.
    cash_collected_cents: int = 0

    @property
    def month_text(self) -> str:
        return clock.month_text(self.month)

    @property
    def settles_nothing(self) -> bool:
        """A month with no voucher redeemed and no cash: nothing to pay, nothing to close for."""
        return not (self.vouchers or self.cash_cents_due or self.cash_collected_cents)


# A voucher `v` counts as redeemed, in statements and figures alike, while its redemption stands:
# an admin's reversal of it in the ledger gave the resident the points back from the provider.
REDEEMED = "v.status = 'redeemed' AND " + ledger.not_reversed("v.transfer_id")


# The month's redeemed vouchers (of one provider if :org is given), with the payment of each
# one's cash part (app.payments, kind `voucher`) while it is paid: the cash it brought in, less
# what was refunded of it in part.
def _month_vouchers(select: str, *, only_cash: bool = False, then: str = "") -> str:
    return (
        f"SELECT {select} FROM circle_vouchers v JOIN circle_offers o ON o.id = v.offer_id "  # noqa: S608 - no input in it
        "LEFT JOIN payments p ON p.kind = 'voucher' AND p.ref_id = v.id AND p.status = 'paid' "
        "AND v.cash_cents > 0 "
        f"WHERE v.community_id = :c AND {REDEEMED} "
        "AND v.redeemed_at >= :start AND v.redeemed_at < :end "
        "AND (CAST(:org AS bigint) IS NULL OR v.organisation_id = CAST(:org AS bigint)) "
        + ("AND v.cash_cents > 0 " if only_cash else "")
        + then
    )


_REDEEMED = text(
    _month_vouchers(
        "v.organisation_id, count(*), COALESCE(sum(v.points), 0), "
        "COALESCE(sum(p.amount_cents - p.refunded_cents), 0)",
        then="GROUP BY v.organisation_id",
    )
)
_CASH_LINES = text(
    _month_vouchers(
        "v.id, v.organisation_id, o.name, v.redeemed_at, v.points, v.cash_cents, "
        "COALESCE(p.amount_cents - p.refunded_cents, 0)",
        only_cash=True,
        then="ORDER BY v.organisation_id, v.redeemed_at, v.id",
    )
)


@dataclass(frozen=True)
class CashLine:
    """A voucher of the month with a cash part: what it cost and what its payment brought in."""

    voucher_id: int
    organisation_id: int
    offer: str
    redeemed_at: datetime
    points: int
    cash_cents: int
    collected_cents: int  # less what was refunded of it; 0 when it was refunded whole


# A redemption of the month may still be under way when it is closed (redeemed before the month
# ended, its request's transaction not yet committed): its voucher's row is locked. Taking a share
# lock on the provider's held vouchers waits for it, so the count that follows sees it.
_UNDER_WAY = text(
    "SELECT id FROM circle_vouchers WHERE community_id = :c AND organisation_id = :org AND status = 'held' "
    "FOR SHARE"
)


async def month_figures(
    session: AsyncSession, community_id: int, month: date, organisation_id: int | None = None
) -> list[Figures]:
    """Each provider's figures in the community for the month (only `organisation_id` if given):
    kept ones for closed months, counted ones for open months."""
    zone = await time_zone_of(session, community_id)
    start, end = clock.month_bounds(month, zone)
    settings = await settings_of(session, community_id)
    counted = {
        int(r[0]): (int(r[1]), int(r[2]), int(r[3]))
        for r in await session.execute(
            _REDEEMED, {"c": community_id, "start": start, "end": end, "org": organisation_id}
        )
    }
    kept = {
        s.organisation_id: s
        for s in (
            await session.scalars(
                select(Statement).where(Statement.community_id == community_id, Statement.month == month)
            )
        ).all()
    }
    if organisation_id:
        ids = {organisation_id}
    else:
        ids = (
            {p.id for p in await organisations.providers_in(session, community_id)} | set(counted) | set(kept)
        )
    refs = await organisations.providers(session, sorted(ids))
    out = []
    for org_id in sorted(ids, key=lambda i: (refs[i].name if i in refs else "", i)):
        name = refs[org_id].name if org_id in refs else ""
        if org_id in kept:
            s = kept[org_id]
            out.append(
                Figures(
                    community_id,
                    org_id,
                    name,
                    month,
                    s.vouchers,
                    int(s.points),
                    s.fen_per_point,
                    int(s.cash_cents_due),
                    s.fund,
                    s.status,
                    int(s.cash_collected_cents),
                )
            )
        else:
            vouchers, points, collected = counted.get(org_id, (0, 0, 0))
            out.append(
                Figures(
                    community_id,
                    org_id,
                    name,
                    month,
                    vouchers,
                    points,
                    settings.fen_per_point,
                    rules.cash_due(points, settings.fen_per_point),
                    settings.fund,
                    "open",
                    collected,
                )
            )
    return out


async def cash_lines(
    session: AsyncSession, community_id: int, month: date, organisation_id: int | None = None
) -> list[CashLine]:
    """The month's redeemed vouchers with a cash part, each with the cash its payment brought in,
    by provider and time (only `organisation_id`'s if given)."""
    start, end = clock.month_bounds(month, await time_zone_of(session, community_id))
    rows = await session.execute(
        _CASH_LINES, {"c": community_id, "start": start, "end": end, "org": organisation_id}
    )
    return [CashLine(int(r[0]), int(r[1]), str(r[2]), r[3], int(r[4]), int(r[5]), int(r[6])) for r in rows]


_SERVED = text(
    "SELECT EXISTS (SELECT 1 FROM circle_vouchers WHERE organisation_id = :org AND community_id = :c) "
    "OR EXISTS (SELECT 1 FROM circle_statements WHERE organisation_id = :org AND community_id = :c)"
)


async def require_serving(session: AsyncSession, organisation_id: int, community_id: int) -> None:
    """A provider has statements only in a community where it may act or has served: another
    community's provider, named by its id in an admin's own community, is not found there (its
    name is not shown, and no month of it is closed or marked paid)."""
    if not (
        await organisations.may_act_in(session, organisation_id, community_id)
        or await session.scalar(_SERVED, {"org": organisation_id, "c": community_id})
    ):
        raise NotFound()


async def statement_of(
    session: AsyncSession, actor: Actor, organisation_id: int, month: date, community_id: int | None = None
) -> Figures:
    """A provider's statement in a community (its home one unless named): for the provider's
    admin where it serves or served, and for that community's admins. Its home community's
    admins administer nothing in another one, so they do not read its figures there."""
    found = (await organisations.providers(session, [organisation_id])).get(organisation_id)
    if found is None:
        raise NotFound()
    community = community_id or found.community_id
    if not actor.has(community, "admin"):
        provider = await provider_for(session, actor, organisation_id, admin=True)
        if not (await organisations.acts_for(session, actor.user_id)).get(organisation_id):
            raise NotFound()  # the home community's admin, asking about another community
        if community != provider.community_id:
            await require_serving(session, organisation_id, community)
    else:
        await require_serving(session, organisation_id, community)
    return (await month_figures(session, community, month, organisation_id))[0]


async def community_statements(
    session: AsyncSession, actor: Actor, community_id: int, month: date
) -> list[Figures]:
    await community_for(session, actor, community_id, "admin")
    return await month_figures(session, community_id, month)


async def close_month(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    organisation_id: int,
    month: date,
    address: str | None = None,
) -> Figures:
    """Keeps the month's figures for good and settles its points (provider -> settled account)."""
    await community_for(session, actor, community_id, "admin")
    await require_serving(session, organisation_id, community_id)
    zone = await time_zone_of(session, community_id)
    if not rules.may_close(month, clock.now(), zone):
        raise DomainError("conflict", 409, lazy("Only a month that has ended can be closed."))
    await session.execute(_UNDER_WAY, {"c": community_id, "org": organisation_id})
    # A reversal of one of the month's redemptions locks the provider's account too: the figures
    # are read after one under way, and one sent now waits, then finds the month closed.
    await ledger.lock_provider_account(await connection_of(session), community_id, organisation_id)
    figures = (await month_figures(session, community_id, month, organisation_id))[0]
    if figures.status != "open":
        raise DomainError("already_done", 409, lazy("This month is already closed."))
    if not (await organisations.providers(session, [organisation_id])):
        raise NotFound()
    transfer_id = None
    key = f"circle:statement:{community_id}:{organisation_id}:{clock.month_text(month)}"
    try:
        async with session.begin_nested():
            if figures.points:
                transfer_id = await ledger.settle_provider(
                    await connection_of(session),
                    community_id=community_id,
                    organisation_id=organisation_id,
                    points=figures.points,
                    kind="circle_settlement",
                    reference=f"organisation:{organisation_id}",
                    memo="",
                    actor_id=actor.user_id,
                    idempotency_key=key,
                    reason={"month": clock.month_text(month), "provider_id": organisation_id},
                )
            session.add(
                Statement(
                    community_id=community_id,
                    organisation_id=organisation_id,
                    month=month,
                    vouchers=figures.vouchers,
                    points=figures.points,
                    fen_per_point=figures.fen_per_point,
                    cash_cents_due=figures.cash_cents_due,
                    cash_collected_cents=figures.cash_collected_cents,
                    fund=figures.fund,
                    status="closed",
                    transfer_id=transfer_id,
                    closed_by=actor.user_id,
                    closed_at=clock.now(),
                )
            )
            await session.flush()
    except (IntegrityError, DomainError) as exc:
        raise DomainError("already_done", 409, lazy("This month is already closed.")) from exc
    await audit.record(
        session,
        action="circle.month_closed",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"organisation:{organisation_id}",
        address=address,
        month=clock.month_text(month),
        points=figures.points,
        transfer_id=transfer_id,
    )
    return (await month_figures(session, community_id, month, organisation_id))[0]


async def mark_paid(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    organisation_id: int,
    month: date,
    address: str | None = None,
) -> Figures:
    await community_for(session, actor, community_id, "admin")
    await require_serving(session, organisation_id, community_id)
    row = await session.scalar(
        select(Statement)
        .where(
            Statement.community_id == community_id,
            Statement.organisation_id == organisation_id,
            Statement.month == month,
        )
        .with_for_update()
    )
    if row is None:
        raise DomainError("conflict", 409, lazy("Close the month before marking it paid."))
    if row.status == "paid":
        raise DomainError("already_done", 409, lazy("This month is already marked paid."))
    row.status, row.paid_by, row.paid_at = "paid", actor.user_id, clock.now()
    await session.flush()
    await audit.record(
        session,
        action="circle.month_paid",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"organisation:{organisation_id}",
        address=address,
        month=clock.month_text(month),
    )
    return (await month_figures(session, community_id, month, organisation_id))[0]


async def first_month(
    session: AsyncSession, community_id: int, organisation_id: int, zone: str
) -> date | None:
    """The first month a shop has anything in for a community: its first redemption's, or an
    earlier statement's; None when it has neither. The shop page's earlier months go back to it,
    not on into the months before the shop took its first voucher."""
    first_redeemed = await session.scalar(
        text(
            "SELECT min(redeemed_at) FROM circle_vouchers "
            "WHERE organisation_id = :o AND community_id = :c AND redeemed_at IS NOT NULL"
        ),
        {"o": organisation_id, "c": community_id},
    )
    first_statement = await session.scalar(
        text("SELECT min(month) FROM circle_statements WHERE community_id = :c AND organisation_id = :o"),
        {"o": organisation_id, "c": community_id},
    )
    months = [m for m in (first_statement, first_redeemed and clock.month_of(first_redeemed, zone)) if m]
    return min(months) if months else None


# The months before `:before` a statement still waits in: a statement closed and not marked
# paid, or vouchers redeemed (before `:start`, the first of those months) in a month not closed
# for their provider. The redeemed months are found a provider at a time, one voucher each, from
# the vouchers' index by provider and redemption (a month's first voucher, then the first of a
# later month): a community's every old redemption is not read on each view.
_MONTHS_TO_SETTLE = uow.Sql(
    "WITH RECURSIVE providers AS ("
    " SELECT DISTINCT organisation_id AS org FROM circle_offers WHERE community_id = :c"
    "), redeemed (org, month) AS ("
    " SELECT p.org, (SELECT CAST(date_trunc('month', v.redeemed_at AT TIME ZONE :z) AS date)"
    " FROM circle_vouchers v WHERE v.organisation_id = p.org AND v.community_id = :c"
    " AND v.status = 'redeemed' AND v.redeemed_at < :start ORDER BY v.redeemed_at LIMIT 1)"
    " FROM providers p"
    " UNION ALL"
    " SELECT r.org, (SELECT CAST(date_trunc('month', v.redeemed_at AT TIME ZONE :z) AS date)"
    " FROM circle_vouchers v WHERE v.organisation_id = r.org AND v.community_id = :c"
    " AND v.status = 'redeemed' AND v.redeemed_at >= ((r.month + interval '1 month') AT TIME ZONE :z)"
    " AND v.redeemed_at < :start ORDER BY v.redeemed_at LIMIT 1)"
    " FROM redeemed r WHERE r.month IS NOT NULL"
    ") "
    "SELECT month FROM circle_statements WHERE community_id = :c AND status = 'closed' AND month < :before "
    "UNION "
    "SELECT r.month FROM redeemed r WHERE r.month IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM circle_statements s"
    " WHERE s.community_id = :c AND s.organisation_id = r.org AND s.month = r.month) "
    "ORDER BY 1"
)


async def months_to_settle_before(
    session: AsyncSession, community_id: int, before: date, zone: str
) -> list[date]:
    """The months before `before` that still wait on the admin: a provider's statement closed and
    not marked paid, or vouchers redeemed in a month not closed for their provider. The page
    offers the last six months; a month left open past them was gone from view, its provider
    never paid. Read a provider's month at a time (_MONTHS_TO_SETTLE), not every redemption."""
    start, _end = clock.month_bounds(before, zone)
    rows = await _MONTHS_TO_SETTLE.fetch(
        session, {"c": community_id, "before": before, "start": start, "z": zone}
    )
    return [row[0] for row in rows]
