"""What each worker remembers for the service circle's hot paths while it hears their changes
(app.core.changes): offers' facts and members' wallet ids for buying vouchers
(`vouchers.KnownOffers`), and the organisations a scanner acts for (`acting_for`: the answer of
app.core.organisations.acts_for by user, until that user's organisation memberships change,
migration 0032's trigger). The assembly puts them in the app's state (app.domains.worker_memos);
the purchase routes read the first there, the voucher scans the second (app.circle.scan_handlers).
A member removed from a provider may redeem on a worker until it hears of it, milliseconds as a
rule (as a role revoked is known by the actor cache)."""

from __future__ import annotations

from typing import Any

from app.circle.vouchers import KnownOffers
from app.core.changes import ChangeFeed, Memo, Watch


def acting_for(feed: ChangeFeed) -> Memo[int, dict[int, bool]]:
    return Memo(feed, (Watch("organisation_members", "user_id"),), max_entries=5_000)


def remember(feed: ChangeFeed) -> dict[str, Any]:
    return {"offer_facts": KnownOffers.on(feed), "acting_for": acting_for(feed)}
