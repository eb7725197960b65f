"""Request and response bodies of the ledger's JSON API (API.md)."""

from __future__ import annotations

import msgspec


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
    user_id: int
    points: int
    reason: str
    idempotency_key: str


class TransferCreated(msgspec.Struct):
    transfer_id: int


class HoldIn(msgspec.Struct):
    user_id: int
    points: int
    reason: str
    idempotency_key: str
    expires_in_seconds: int | None = None


class HoldCreated(msgspec.Struct):
    hold_id: int


class ReasonIn(msgspec.Struct):
    reason: str
    idempotency_key: str = ""


class HoldVoided(msgspec.Struct):
    hold_id: int
    status: str
