"""Correcting a contribution the admin recorded. A recorded row is never changed (a trigger
refuses it): the admin says what the amount should have been and why, and a new row of the
difference is recorded beside it, naming it (`corrects_id`), with the reason as its note and
audited. The amount an entry stands for (the entry and its corrections) never goes below zero,
so neither does its source's share of the goal. Online donations are not corrected here: they
are refunded through Stripe."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import lazy
from app.core.uow import Sql
from app.payments import rules

# The entry, locked: two corrections of it take turns, the second one seeing the first.
_LOCK = Sql(
    "SELECT id, community_id, target_kind, target_id, source, amount_cents, payment_id, corrects_id, "
    "name, show_name FROM funding_contributions WHERE id = :id FOR UPDATE"
)
_FIND = Sql("SELECT community_id, target_kind, target_id FROM funding_contributions WHERE id = :id")
_STANDS_FOR = Sql(
    "SELECT CAST(:amount AS bigint) + COALESCE(sum(amount_cents), 0)::bigint FROM funding_contributions "
    "WHERE corrects_id = :id"
)
_INSERT = Sql(
    "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents, name, "
    "show_name, note, recorded_by, corrects_id) VALUES (:community, :kind, :target, :source, :amount, :name, "
    ":show, :note, :actor, :corrects) RETURNING id"
)

NOT_CORRECTABLE = lazy(
    "Only a contribution recorded on this page can be corrected; an online donation is refunded instead."
)
NO_REASON = lazy("Say why the amount is corrected.")
SAME_AMOUNT = lazy("The entry already stands for this amount.")


async def target_of(db: AsyncSession, contribution_id: int) -> tuple[int, str, int]:
    """(community, target kind, target id) of a contribution, for the page it is shown on."""
    row = await _FIND.fetchrow(db, {"id": contribution_id})
    if row is None:
        raise NotFound()
    return int(row["community_id"]), row["target_kind"], int(row["target_id"])


async def correct_contribution(
    db: AsyncSession,
    actor: Actor,
    contribution_id: int,
    *,
    amount_cents: int,
    reason: str,
    address: str | None,
) -> int:
    """Records the difference between what the entry stands for now and `amount_cents` (what it
    should be: 0 when it should never have been recorded) as a correction naming it. Returns
    the correction's id."""
    row = await _LOCK.fetchrow(db, {"id": contribution_id})
    if row is None:
        raise NotFound()
    community_id = int(row["community_id"])
    actor.require(community_id, "admin")
    if (
        row["payment_id"] is not None
        or row["corrects_id"] is not None
        or row["source"] not in rules.RECORDED_SOURCES
    ):
        raise DomainError("conflict", 409, NOT_CORRECTABLE)
    reason = reason.strip()[:500]
    if not reason:
        raise Invalid(NO_REASON, field="reason")
    if not 0 <= amount_cents <= rules.MAX_AMOUNT_CENTS:
        raise rules.not_an_amount(field="amount")
    before = int(await _STANDS_FOR.fetchval(db, {"amount": int(row["amount_cents"]), "id": contribution_id}))
    difference = amount_cents - before
    if difference == 0:
        raise Invalid(SAME_AMOUNT, field="amount")
    correction_id = int(
        await _INSERT.fetchval(
            db,
            {
                "community": community_id,
                "kind": row["target_kind"],
                "target": int(row["target_id"]),
                "source": row["source"],
                "amount": difference,
                "name": row["name"],
                "show": row["show_name"],
                "note": reason,
                "actor": actor.user_id,
                "corrects": contribution_id,
            },
        )
    )
    await audit.record(
        db,
        action="payments.contribution_corrected",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"{row['target_kind']}:{row['target_id']}",
        address=address,
        contribution_id=contribution_id,
        correction_id=correction_id,
        from_cents=before,
        to_cents=amount_cents,
        reason=reason,
    )
    return correction_id
