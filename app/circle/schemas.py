"""The service circle's JSON shapes (API.md "The 15-minute service circle")."""

from __future__ import annotations

import msgspec

from app.core.fields import Count, Id, Key, Name, Quantity, Text


class OfferIn(msgspec.Struct):
    name: Name
    points_price: Quantity
    cash_price_cents: Count | None = None
    monthly_quota: Quantity | None = None
    home_visit: bool | None = None
    # Around the contract.
    per_resident_limit: Quantity | None = None
    description: Text = ""
    opening_times: Text = ""
    community_id: Id | None = None


class OfferCreated(msgspec.Struct):
    id: int
    status: str


class ReviewIn(msgspec.Struct):
    note: Text = ""


class OfferOut(msgspec.Struct):
    id: int
    name: str
    organisation_id: int
    organisation_name: str
    points_price: int
    cash_price_cents: int
    distance_m: int | None
    walk_minutes: int | None
    # Around the contract.
    within_15_minutes: bool = False
    category: str = ""
    home_visit: bool = False
    monthly_quota: int | None = None
    per_resident_limit: int | None = None
    opening_times: str = ""
    description: str = ""
    stars: float | None = None
    ratings: int = 0
    photo_url: str | None = None


class OffersOut(msgspec.Struct):
    items: list[OfferOut]


class VoucherIn(msgspec.Struct):
    offer_id: Id
    idempotency_key: Key
    # A grid worker or staff buying a home-visit voucher for a resident (audited).
    user_id: Id | None = None


class VoucherBought(msgspec.Struct, omit_defaults=True):
    id: int
    status: str
    points: int
    voucher_code: str | None = None
    cash_cents: int | None = None
    checkout_url: str | None = None


class CancelOut(msgspec.Struct):
    status: str


class VoucherOut(msgspec.Struct, omit_defaults=True):
    id: int
    status: str
    points: int
    offer_id: int
    voucher_code: str | None = None
    voucher_digits: str | None = None
    expires_at: str | None = None


class RatingIn(msgspec.Struct):
    stars: int
    note: Text = ""


class RatingOut(msgspec.Struct):
    voucher_id: int
    stars: int
    note: str


class StatementOut(msgspec.Struct):
    month: str
    vouchers: int
    points: int
    cash_cents_due: int
    status: str
    # Around the contract.
    fund: str = ""
    fen_per_point: int = 0
    # The cash parts of the month's redeemed vouchers, paid through Stripe Checkout.
    cash_cents_collected: int = 0
