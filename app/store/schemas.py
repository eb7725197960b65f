from __future__ import annotations

import msgspec

from app.core.fields import Count, Id, Key, Name, Quantity, SmallInt, Text


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
    name: Name
    points_price: Quantity
    stock: Count
    per_resident_limit: Quantity | None = None
    description: Text = ""
    category: Text = ""
    active: bool = True
    display_order: SmallInt = 0


class Created(msgspec.Struct):
    id: int


class OrderIn(msgspec.Struct):
    item_id: Id
    quantity: Quantity
    idempotency_key: Key
    # Counter staff placing an order for a resident without a phone (audited).
    user_id: Id | None = None


class OrderPlaced(msgspec.Struct):
    id: int
    status: str
    points: int
    pickup_code: str


class CancelIn(msgspec.Struct):
    reason: Text = ""


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
