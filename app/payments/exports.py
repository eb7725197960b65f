"""Money's export (app.core.exports): every contribution to the community's funding goals, one row
each, as it stands now, with the donor's contact details given with an online donation. For
whoever may open the exports page (the community's admins and its street's admins); the contact
column is in the community admin's file only (`contacts`): a street admin's file has none."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from app.core import clock, exports
from app.core.figures import Scope
from app.core.i18n import lazy
from app.core.uow import Sql
from app.payments import rules, targets

NAME = "contributions"
SHOWN_WORDS = {"yes": lazy("Yes"), "no": lazy("No")}


class _KindWords(Mapping[str, str]):
    """The words of each kind of funding goal, as the domains registered them (read when a file
    is written, so a kind registered after this module is imported has its words too)."""

    def __getitem__(self, kind: str) -> str:
        found = targets.kind(kind)
        if found is None:
            raise KeyError(kind)
        return found.label

    def __iter__(self) -> Iterator[str]:
        return iter(targets.kinds())

    def __len__(self) -> int:
        return len(targets.kinds())


_ROWS = Sql(
    "SELECT f.created_at, f.target_kind, f.target_id, f.source, f.amount_cents, f.name, f.show_name,"
    " f.note, f.payment_id, f.id, f.corrects_id, p.contact FROM funding_contributions f"
    " LEFT JOIN payments p ON p.id = f.payment_id WHERE f.community_id = :community"
    " ORDER BY f.created_at, f.id"
)


@exports.export(
    NAME,
    lazy("Funding: every contribution"),
    columns=(
        lazy("When"),
        exports.column(lazy("Kind"), words=_KindWords()),
        lazy("Goal number"),
        lazy("Title"),
        exports.column(lazy("Source"), words=rules.SOURCE_LABELS),
        exports.column(lazy("Amount (%(currency)s)"), money=True),
        lazy("Given by"),
        exports.column(lazy("Name shown"), words=SHOWN_WORDS),
        lazy("Note"),
        lazy("Payment number"),
        lazy("Entry number"),
        lazy("Corrects entry"),
        exports.column(lazy("Contact"), contact=True),
    ),
    order=80,
    note=lazy(
        "Every contribution to a funding goal and every online donation, one row each; the donor's "
        "contact is in the community admin's file only."
    ),
    dated=False,
    contacts=("admin",),
)
async def contributions(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    titles = {(t.kind, t.id): t.title for t in await targets.with_goal(session, scope.community_id)}
    return [
        (
            clock.local(r["created_at"], scope.time_zone),
            r["target_kind"],
            r["target_id"],
            titles.get((r["target_kind"], int(r["target_id"])), ""),
            r["source"],
            Decimal(int(r["amount_cents"])).scaleb(-2),
            r["name"],
            "yes" if r["show_name"] else "no",
            r["note"],
            r["payment_id"],
            r["id"],
            r["corrects_id"],
            r["contact"] or "",
        )
        for r in await _ROWS.fetch(session, {"community": scope.community_id})
    ]
