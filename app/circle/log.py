"""The service circle's log for the community admin: who did what in it, when and from where, read
from the audit trail (app.core.audit's rows and the redemptions, view audit_trail of migration
0047), newest first, a page at a time (app.core.paging). A voucher bought for a resident without a
phone is audited; this is where the admin finds that entry, in words and with the names of the
people, the service and the provider it is about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.circle.models import Offer, Voucher
from app.core import organisations
from app.core.i18n import lazy
from app.places.models import Compound

# The log lists this many entries a page.
PER_PAGE = 30

# What each audited action of the circle did, in words.
ACTION_WORDS: dict[str, str] = {
    "circle.voucher_bought_for_resident": lazy("Bought a voucher for a resident"),
    "circle.voucher_cash_payment_for_resident": lazy("Opened the cash part's payment for a resident"),
    "circle.voucher_redeemed": lazy("Redeemed a voucher"),
    "circle.voucher_cancelled": lazy("Cancelled a voucher; its points went back"),
    "circle.voucher_expired": lazy("A voucher expired unused; its points went back"),
    "circle.voucher_payment_expired": lazy("A voucher's payment was not made in time; its points went back"),
    "circle.voucher_payment_refunded": lazy("A voucher's cash part was refunded; its points went back"),
    "circle.month_closed": lazy("Closed a month's statement"),
    "circle.month_paid": lazy("Marked a month's statement paid"),
    "circle.settings_saved": lazy("Changed the circle's settings"),
    "circle.provider_saved": lazy("Changed a provider's details"),
    "circle.compound_placed": lazy("Set a compound's position"),
    "circle.offer_created": lazy("Added a service"),
    "circle.offer_reviewed": lazy("Reviewed a service"),
    "circle.offer_lapsed": lazy("A service stopped: its provider's agreement ended"),
    "circle.offer_photo_uploaded": lazy("Changed a service's photo"),
}

# The log's filters: each names the actions it shows.
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "all": (lazy("Everything"), tuple(ACTION_WORDS)),
    "for_residents": (
        lazy("Bought for residents"),
        ("circle.voucher_bought_for_resident", "circle.voucher_cash_payment_for_resident"),
    ),
    "vouchers": (
        lazy("Vouchers"),
        (
            "circle.voucher_redeemed",
            "circle.voucher_cancelled",
            "circle.voucher_expired",
            "circle.voucher_payment_expired",
            "circle.voucher_payment_refunded",
        ),
    ),
    "statements": (lazy("Statements"), ("circle.month_closed", "circle.month_paid")),
    "setup": (
        lazy("Providers, services and settings"),
        (
            "circle.settings_saved",
            "circle.provider_saved",
            "circle.compound_placed",
            "circle.offer_created",
            "circle.offer_reviewed",
            "circle.offer_lapsed",
            "circle.offer_photo_uploaded",
        ),
    ),
}

_WHERE = "FROM audit_trail t WHERE t.community_id = :c AND t.action = ANY(:actions)"
_COUNT = text(f"SELECT count(*) {_WHERE}")  # noqa: S608 - constants only
_PAGE = text(
    "SELECT t.actor_id, t.action, t.target, t.data, t.address, t.created_at "  # noqa: S608 - constants only
    f"{_WHERE} ORDER BY t.created_at DESC, t.id DESC NULLS LAST OFFSET :o LIMIT :n"
)


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str | None  # None: the app itself (a job)
    words: str
    about: list[str]  # the service, the resident, the provider, the compound
    month: str | None  # a statement's month (YYYY-MM)
    address: str | None


def actions_of(kind: str) -> tuple[str, ...]:
    return KINDS.get(kind, KINDS["all"])[1]


async def count(session: AsyncSession, community_id: int, kind: str) -> int:
    found = await session.scalar(_COUNT, {"c": community_id, "actions": list(actions_of(kind))})
    return int(found or 0)


def _ids(rows: list[Any], prefix: str) -> list[int]:
    return [int(r.target.split(":", 1)[1]) for r in rows if r.target.startswith(prefix + ":")]


async def _names(session: AsyncSession, rows: list[Any]) -> dict[str, list[str]]:
    """What each entry's target is, in names: a voucher's service, resident and provider; an
    offer's name and provider; a provider's or a compound's name."""
    vouchers = _ids(rows, "circle_voucher")
    offers = _ids(rows, "circle_offer")
    found: dict[str, list[str]] = {}
    if vouchers:
        for vid, offer, resident, org in (
            await session.execute(
                select(Voucher.id, Offer.name, User.display_name, Voucher.organisation_id)
                .join(Offer, Offer.id == Voucher.offer_id)
                .join(User, User.id == Voucher.user_id)
                .where(Voucher.id.in_(vouchers))
            )
        ).all():
            found[f"circle_voucher:{vid}"] = [offer, resident, f"organisation:{org}"]
    if offers:
        for oid, name, org in (
            await session.execute(
                select(Offer.id, Offer.name, Offer.organisation_id).where(Offer.id.in_(offers))
            )
        ).all():
            found[f"circle_offer:{oid}"] = [name, f"organisation:{org}"]
    orgs = set(_ids(rows, "organisation"))
    orgs |= {
        int(n.split(":", 1)[1]) for names in found.values() for n in names if n.startswith("organisation:")
    }
    providers = {i: ref.name for i, ref in (await organisations.providers(session, sorted(orgs))).items()}
    for key, names in found.items():
        found[key] = [
            providers.get(int(n.split(":", 1)[1]), "") if n.startswith("organisation:") else n for n in names
        ]
    for oid in orgs:
        found.setdefault(f"organisation:{oid}", [providers.get(oid, "")])
    compounds = _ids(rows, "compound")
    if compounds:
        for cid, name in (
            await session.execute(select(Compound.id, Compound.name).where(Compound.id.in_(compounds)))
        ).all():
            found[f"compound:{cid}"] = [name]
    return found


async def entries(session: AsyncSession, community_id: int, kind: str, offset: int) -> list[Entry]:
    """A page of the community's circle log from `offset`, newest first."""
    rows = list(
        (
            await session.execute(
                _PAGE, {"c": community_id, "actions": list(actions_of(kind)), "o": offset, "n": PER_PAGE}
            )
        ).all()
    )
    actors = sorted({int(r.actor_id) for r in rows if r.actor_id is not None})
    people = (
        dict((await session.execute(select(User.id, User.display_name).where(User.id.in_(actors)))).all())
        if actors
        else {}
    )
    names = await _names(session, rows)
    shown = []
    for r in rows:
        about = [n for n in names.get(r.target, []) if n]
        month = (r.data or {}).get("month")
        shown.append(
            Entry(
                at=r.created_at,
                actor=people.get(r.actor_id, "") if r.actor_id is not None else None,
                words=ACTION_WORDS.get(r.action, lazy("Another change")),
                about=about,
                month=str(month) if month else None,
                address=r.address,
            )
        )
    return shown
