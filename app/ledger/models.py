"""Ledger tables (DESIGN.md §4).

- ``ledger_accounts``: a wallet per member per community, and per community the system accounts
  ``issuing`` (source of all points, goes negative), ``store`` and ``expiry`` (sinks), one
  ``provider`` account per service-circle provider (naming its organisation) and ``settled``
  (where a provider's points go when its month is closed). Only wallets
  keep a cached, synchronously checked ``balance``/``held``; system accounts are never updated per
  transfer (they would be hot rows): their balances are derived from the transfers.
- ``ledger_transfers``: immutable (a trigger refuses UPDATE, DELETE and TRUNCATE). A mistake is
  fixed by a reversing transfer (``reverses_id`` is unique: a transfer is reversed at most once).
  No foreign keys: an FK check would take a share lock on a hot account row per transfer;
  ``jinlin ledger verify`` checks the references instead.
- ``ledger_holds``: two-phase transfers. ``pending`` until posted (a transfer with ``hold_id``) or
  voided (by the caller or by the expiry job).
- ``ledger_policies``: per community settings (points expiry).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base

ACCOUNT_KINDS = ("wallet", "issuing", "store", "expiry", "provider", "settled")
SYSTEM_KINDS = ("issuing", "store", "expiry", "settled")
HOLD_STATUSES = ("pending", "posted", "voided")


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('wallet', 'issuing', 'store', 'expiry', 'provider', 'settled')", name="kind"
        ),
        CheckConstraint("(kind = 'wallet') = (user_id IS NOT NULL)", name="wallet_has_user"),
        CheckConstraint(
            "(kind = 'provider') = (organisation_id IS NOT NULL)", name="provider_has_organisation"
        ),
        # Points that must never go negative: wallets. System rows keep 0 (derived balances).
        CheckConstraint("balance >= 0 OR kind = 'issuing'", name="balance_not_negative"),
        CheckConstraint("held >= 0 AND held <= balance OR kind = 'issuing'", name="held_within_balance"),
        Index(
            "uq_ledger_accounts_wallet",
            "community_id",
            "user_id",
            unique=True,
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "uq_ledger_accounts_system",
            "community_id",
            "kind",
            unique=True,
            postgresql_where=text("user_id IS NULL AND organisation_id IS NULL"),
        ),
        # A provider of the service circle: one account per organisation and community.
        Index(
            "uq_ledger_accounts_provider",
            "community_id",
            "organisation_id",
            unique=True,
            postgresql_where=text("organisation_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    # Found with its community (uq_ledger_accounts_wallet), never by the member alone (0044).
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    organisation_id: Mapped[int | None] = mapped_column(BigInteger)
    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    held: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))


class LedgerTransfer(Base):
    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        Index("ix_ledger_transfers_debit", "debit_account_id", "created_at", "id"),
        Index("ix_ledger_transfers_credit", "credit_account_id", "created_at", "id"),
        Index("ix_ledger_transfers_community", "community_id", "created_at", "id"),
        # Unique where set: a transfer is reversed once, a hold posts once (migration 0006).
        Index(
            "uq_ledger_transfers_reverses_id",
            "reverses_id",
            unique=True,
            postgresql_where=text("reverses_id IS NOT NULL"),
        ),
        Index(
            "uq_ledger_transfers_hold_id",
            "hold_id",
            unique=True,
            postgresql_where=text("hold_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    community_id: Mapped[int] = mapped_column(BigInteger)
    debit_account_id: Mapped[int] = mapped_column(BigInteger)
    credit_account_id: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(128), default="")
    memo: Mapped[str] = mapped_column(String(500), default="")
    # What it was for, as its kind's parameters (app.ledger.words puts them into words).
    reason: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    reverses_id: Mapped[int | None] = mapped_column(BigInteger)
    hold_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerHold(Base):
    __tablename__ = "ledger_holds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'posted', 'voided')", name="status"),
        Index(
            "ix_ledger_holds_pending_expiry",
            "expires_at",
            postgresql_where=text("status = 'pending' AND expires_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    community_id: Mapped[int] = mapped_column(BigInteger)
    debit_account_id: Mapped[int] = mapped_column(BigInteger)
    credit_account_id: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(128), default="")
    memo: Mapped[str] = mapped_column(String(500), default="")
    reason: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[int | None] = mapped_column(BigInteger)
    void_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")


class LedgerPolicy(Base):
    __tablename__ = "ledger_policies"
    __table_args__ = (
        CheckConstraint("expiry_months IS NULL OR expiry_months BETWEEN 1 AND 120", name="months"),
    )

    community_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Points expire this many months after they were earned; None = never (the default).
    expiry_months: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
