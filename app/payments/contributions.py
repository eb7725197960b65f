"""A funding goal's money: its progress (the total by source and the named givers), the
contributions the admin records, and its entries for the admin. Corrections of a recorded entry
are app.payments.corrections. Each runs in its caller's transaction; nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, form_keys
from app.core.authz import Actor
from app.core.errors import Forbidden, Invalid
from app.core.i18n import lazy
from app.core.uow import Sql
from app.payments import rules, targets

# Who sees a community's money: its admin; a street admin sees the figures but no donor contact.
MONEY_READERS = ("admin", "street_admin")


NAMES_SHOWN = 50


async def progress(db: AsyncSession, target: targets.Target) -> rules.Progress:
    """A goal's total by source and its named givers (`progress_of_page`'s two reads, for one)."""
    return (await progress_of_page(db, [target]))[0]


# A goal's total by source, and its named givers: those who chose to be shown, less donations
# refunded whole since (a recorded entry corrected to nothing is no gift either), the first
# NAMES_SHOWN of them with how many there are; for a page of goals at once (the goals page), one
# statement each, not two per goal. The goals go in as two arrays of the same length, kinds and ids.
_BY_SOURCE = Sql(
    "SELECT f.target_kind, f.target_id, f.source, sum(f.amount_cents)::bigint AS total "
    "FROM funding_contributions f JOIN (SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS bigint[])) "
    "AS t(kind, id)) t ON t.kind = f.target_kind AND t.id = f.target_id "
    "GROUP BY f.target_kind, f.target_id, f.source"
)
_NAMES = Sql(
    "SELECT target_kind, target_id, name, named FROM (SELECT f.target_kind, f.target_id, f.name, "
    "row_number() OVER (PARTITION BY f.target_kind, f.target_id ORDER BY min(f.created_at)) AS n, "
    "count(*) OVER (PARTITION BY f.target_kind, f.target_id) AS named "
    "FROM funding_contributions f JOIN (SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS bigint[])) "
    "AS t(kind, id)) t ON t.kind = f.target_kind AND t.id = f.target_id "
    "WHERE f.amount_cents > 0 AND f.corrects_id IS NULL AND f.show_name AND f.name <> '' AND NOT EXISTS "
    "(SELECT 1 FROM payments p WHERE p.id = f.payment_id AND p.status = 'refunded') "
    "AND f.amount_cents + COALESCE((SELECT sum(c.amount_cents) FROM funding_contributions c "
    "WHERE c.corrects_id = f.id), 0) > 0 "
    "GROUP BY f.target_kind, f.target_id, f.name) named WHERE n <= :n ORDER BY target_kind, target_id, n"
)


async def progress_of_page(db: AsyncSession, page: list[targets.Target]) -> list[rules.Progress]:
    """`progress` of each target of a page, in the page's order, in two statements."""
    if not page:
        return []
    params = {"kinds": [t.kind for t in page], "ids": [t.id for t in page]}
    by_source: dict[tuple[str, int], dict[str, int]] = {}
    for r in await _BY_SOURCE.fetch(db, params):
        by_source.setdefault((r["target_kind"], r["target_id"]), {})[r["source"]] = int(r["total"])
    names: dict[tuple[str, int], list[str]] = {}
    named: dict[tuple[str, int], int] = {}
    for r in await _NAMES.fetch(db, {**params, "n": NAMES_SHOWN}):
        names.setdefault((r["target_kind"], r["target_id"]), []).append(r["name"])
        named[(r["target_kind"], r["target_id"])] = int(r["named"])
    return [
        rules.Progress(
            t.goal_cents,
            by_source.get((t.kind, t.id), {}),
            names.get((t.kind, t.id), []),
            named.get((t.kind, t.id), 0) - len(names.get((t.kind, t.id), [])),
        )
        for t in page
    ]


async def funding_box(db: AsyncSession, kind: str, target_id: int) -> dict[str, Any] | None:
    """What a page needs to show a target's progress bar (templates/payments/_progress.html), or
    None when it has no funding goal."""
    target = await targets.find(db, kind, target_id)
    if target is None or target.goal_cents is None:
        return None
    return {
        "target": target,
        "progress": await progress(db, target),
        "source_labels": rules.SOURCE_LABELS,
    }


def require_money_reader(actor: Actor, community_id: int) -> None:
    if not actor.has(community_id, *MONEY_READERS):
        raise Forbidden()


_RECORD = Sql(
    "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents, name, "
    "show_name, note, recorded_by, form_key) VALUES (:community, :kind, :id, :source, :amount, :name, "
    ":show, :note, :actor, :key) "
    "ON CONFLICT (recorded_by, form_key) WHERE form_key IS NOT NULL DO NOTHING RETURNING id"
)
_RECORDED = Sql("SELECT id FROM funding_contributions WHERE recorded_by = :actor AND form_key = :key")


async def record_contribution(
    db: AsyncSession,
    actor: Actor,
    target: targets.Target,
    *,
    source: str,
    amount_cents: int,
    name: str,
    show_name: bool,
    note: str,
    address: str | None,
    key: str | None = None,
) -> int:
    """A contribution the admin records (government money, a partner unit's transfer, residents'
    cash), audited. The total is the sum of the rows; a mistake is corrected by a new row that
    names this one (app.payments.corrections). `key` is the form's: a second sending of it (a
    double tap) records nothing and answers the first one's id."""
    actor.require(target.community_id, "admin")
    if source not in rules.RECORDED_SOURCES:
        raise Invalid(lazy("Choose where the money comes from."), field="source")
    if not 1 <= amount_cents <= rules.MAX_AMOUNT_CENTS:
        raise rules.at_least(1, field="amount")
    key = form_keys.clean(key)
    recorded = await _RECORD.fetchval(
        db,
        {
            "community": target.community_id,
            "kind": target.kind,
            "id": target.id,
            "source": source,
            "amount": amount_cents,
            "name": name.strip()[:100],
            "show": show_name,
            "note": note.strip()[:500],
            "actor": actor.user_id,
            "key": key,
        },
    )
    if recorded is None:  # this form was sent before
        return int(await _RECORDED.fetchval(db, {"actor": actor.user_id, "key": key}))
    contribution_id = int(recorded)
    await audit.record(
        db,
        action="payments.contribution_recorded",
        actor_id=actor.user_id,
        community_id=target.community_id,
        target=f"{target.kind}:{target.id}",
        address=address,
        contribution_id=contribution_id,
        source=source,
        amount_cents=amount_cents,
    )
    return contribution_id


@dataclass(frozen=True)
class Line:
    """A row of a goal's money, for the admin."""

    id: int
    created_at: datetime
    source: str
    amount_cents: int
    name: str
    show_name: bool
    note: str
    payment_id: int | None
    payment_status: str | None
    contact: str  # empty unless the reader is the community's admin
    refundable: bool
    corrects_id: int | None = None  # the entry this row corrects (app.payments.corrections)
    stands_for_cents: int = 0  # a recorded entry with its corrections
    correctable: bool = False


_LINES = Sql(
    "SELECT f.id, f.created_at, f.source, f.amount_cents, f.name, f.show_name, f.note, f.payment_id, "
    "f.corrects_id, f.amount_cents + COALESCE((SELECT sum(c.amount_cents) FROM funding_contributions c "
    "WHERE c.corrects_id = f.id), 0) AS stands_for, "
    "p.status AS payment_status, p.contact, p.refund_requested_at FROM funding_contributions f "
    "LEFT JOIN payments p ON p.id = f.payment_id "
    "WHERE f.target_kind = :kind AND f.target_id = :id ORDER BY f.created_at DESC, f.id DESC "
    "LIMIT :n OFFSET :o"
)
_COUNT_LINES = Sql("SELECT count(*) FROM funding_contributions WHERE target_kind = :kind AND target_id = :id")


async def count_lines(db: AsyncSession, actor: Actor, target: targets.Target) -> int:
    """How many entries `lines` lists over all its pages."""
    require_money_reader(actor, target.community_id)
    return int(await _COUNT_LINES.fetchval(db, {"kind": target.kind, "id": target.id}) or 0)


async def lines(
    db: AsyncSession, actor: Actor, target: targets.Target, *, limit: int, offset: int = 0
) -> list[Line]:
    """A goal's entries a page at a time, the newest first."""
    require_money_reader(actor, target.community_id)
    sees_contact = actor.has(target.community_id, "admin")
    return [
        Line(
            id=int(r["id"]),
            created_at=r["created_at"],
            source=r["source"],
            amount_cents=int(r["amount_cents"]),
            name=r["name"],
            show_name=r["show_name"],
            note=r["note"],
            payment_id=r["payment_id"],
            payment_status=r["payment_status"],
            contact=(r["contact"] or "") if sees_contact else "",
            refundable=sees_contact
            and r["payment_status"] == "paid"
            and r["amount_cents"] > 0
            and r["refund_requested_at"] is None,
            corrects_id=r["corrects_id"],
            stands_for_cents=int(r["stands_for"]),
            correctable=sees_contact and r["payment_id"] is None and r["corrects_id"] is None,
        )
        for r in await _LINES.fetch(db, {"kind": target.kind, "id": target.id, "n": limit, "o": offset})
    ]
