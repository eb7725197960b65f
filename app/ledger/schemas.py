"""Request and response bodies of the ledger's JSON API (API.md)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from app.core.fields import Filled, Id, Key, Points, Text


class WalletOut(msgspec.Struct):
    community_id: int
    balance: int
    held: int
    available: int


class TransferLine(msgspec.Struct):
    id: int
    amount: int
    kind: str
    memo: str
    reference: str
    created_at: str


class TransfersOut(msgspec.Struct):
    items: list[TransferLine]
    next_cursor: str | None


class AwardIn(msgspec.Struct):
    user_id: Id
    points: Points
    reason: Filled
    idempotency_key: Key


class TransferCreated(msgspec.Struct):
    transfer_id: int


class HoldIn(msgspec.Struct):
    user_id: Id
    points: Points
    reason: Filled
    idempotency_key: Key
    expires_in_seconds: Annotated[int, msgspec.Meta(ge=1, le=366 * 24 * 3600)] | None = None


class HoldCreated(msgspec.Struct):
    hold_id: int


class ReasonIn(msgspec.Struct):
    reason: Filled
    idempotency_key: Text = ""


class HoldVoided(msgspec.Struct):
    hold_id: int
    status: str
