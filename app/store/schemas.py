from __future__ import annotations

import msgspec


class ItemOut(msgspec.Struct):
    id: int
    name: str
    points_price: int
    stock: int
    per_resident_limit: int | None
    # Extra fields around the contract (API.md allows adding).
    category: str = ""
    description: str = ""
    active: bool = True
    photo_url: str | None = None


class ItemsOut(msgspec.Struct):
    items: list[ItemOut]


class ItemIn(msgspec.Struct):
    name: str
    points_price: int
    stock: int
    per_resident_limit: int | None = None
    description: str = ""
    category: str = ""
    active: bool = True
    display_order: int = 0


class Created(msgspec.Struct):
    id: int


class OrderIn(msgspec.Struct):
    item_id: int
    quantity: int
    idempotency_key: str
    # Counter staff placing an order for a resident without a phone (audited).
    user_id: int | None = None


class OrderPlaced(msgspec.Struct):
    id: int
    status: str
    points: int
    pickup_code: str


class CancelIn(msgspec.Struct):
    reason: str = ""


class CancelOut(msgspec.Struct):
    status: str


class OrderOut(msgspec.Struct, omit_defaults=True):
    id: int
    status: str
    points: int
    item_id: int
    quantity: int
    pickup_code: str | None = None
    expires_at: str | None = None
    pickup_digits: str | None = None
