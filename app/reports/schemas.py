"""Answer bodies of the stats API (API.md "Reports and notices"). The fields the contract names
come first; `figures` carries every figure the app counts (by name, as the dashboards show them)."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec


class WishCounts(msgspec.Struct):
    """Wishes posted in the period, by where each stands now."""

    submitted: int
    published: int
    claimed: int
    delivered: int
    rejected: int = 0


class CommunityStats(msgspec.Struct):
    points_issued: int
    points_spent: int
    points_expired: int
    volunteer_hours: float
    active_residents: int
    events: int
    wishes: WishCounts
    vouchers_redeemed: int
    orders_picked_up: int
    community_id: int
    name: str
    first_day: date = msgspec.field(name="from")
    last_day: date = msgspec.field(name="to")
    figures: dict[str, Any] = {}


class StreetStats(msgspec.Struct):
    communities: list[CommunityStats]
    street_id: int
    name: str
    first_day: date = msgspec.field(name="from")
    last_day: date = msgspec.field(name="to")
    totals: dict[str, Any] = {}
