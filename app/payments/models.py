"""The money tables: a Checkout payment, the contributions to a funding goal (append-only), the
Stripe events received, and the offline test Stripe's own sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base

PAYMENT_STATUSES = ("open", "paid", "expired", "refunded")
SOURCES = ("government", "partner", "residents", "online")


class Payment(Base):
    """One Stripe Checkout session the app asked for: a donation to a funding goal, or the cash
    part of something a domain sells (a voucher), named by `kind` and `ref_id`. Its status moves
    only forward (app.payments.rules.next_status)."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'paid', 'expired', 'refunded')", name="status"),
        CheckConstraint("amount_cents > 0", name="amount"),
        CheckConstraint("refunded_cents BETWEEN 0 AND amount_cents", name="refunded"),
        CheckConstraint(
            "(kind = 'donation') = (target_kind IS NOT NULL AND target_id IS NOT NULL)", name="target"
        ),
        UniqueConstraint("kind", "idempotency_key", name="uq_payments_kind_key"),
        Index("ix_payments_target", "target_kind", "target_id"),
        Index("ix_payments_community_created", "community_id", "created_at"),
        # The refunds Stripe refused, which the admin's money page lists (migration 0046).
        Index(
            "ix_payments_refund_refused",
            "community_id",
            postgresql_where=text("refund_refused_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    kind: Mapped[str] = mapped_column(String(20))  # 'donation', or a kind registered in app.payments.kinds
    ref_id: Mapped[int | None] = mapped_column(BigInteger)  # the kind's own row (a voucher)
    target_kind: Mapped[str | None] = mapped_column(String(20))  # a donation's goal: 'wish', 'project'
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), server_default="open")
    idempotency_key: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    display_name: Mapped[str] = mapped_column(String(60), server_default="")
    show_name: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    contact: Mapped[str] = mapped_column(String(120), server_default="")  # only the admin sees it
    session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str | None] = mapped_column(String(2000))
    payment_intent: Mapped[str | None] = mapped_column(String(255))
    refund_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What Stripe has refunded so far (a charge may be refunded in parts); `status` is
    # 'refunded' once it reaches `amount_cents`.
    refunded_cents: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    # Stripe refused the refund for good (a 4xx): when, why, and how many times so far. The
    # refund job leaves it alone until the admin asks again (app.payments.refunds.ask_again).
    refund_refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refund_refusal: Mapped[str] = mapped_column(String(500), server_default="")
    refund_refusals: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Contribution(Base):
    """Money towards a funding goal, by source (政府补, 社会筹, 居民凑, online). Append-only (a
    trigger refuses UPDATE and DELETE): a refund is a new negative row, and a recorded row is
    corrected by a new row naming it (`corrects_id`) with the reason in its note. The funded
    total of a goal is the sum of its rows, never a typed-in figure."""

    __tablename__ = "funding_contributions"
    __table_args__ = (
        CheckConstraint("source IN ('government', 'partner', 'residents', 'online')", name="source"),
        CheckConstraint("amount_cents <> 0", name="amount"),
        CheckConstraint("(source = 'online') = (payment_id IS NOT NULL)", name="online_has_payment"),
        CheckConstraint(
            "amount_cents > 0 OR payment_id IS NOT NULL OR corrects_id IS NOT NULL",
            name="negative_is_refund_or_correction",
        ),
        CheckConstraint(
            "corrects_id IS NULL OR (payment_id IS NULL AND note <> '')", name="correction_has_reason"
        ),
        # A payment adds once; its refunds (one row per part) are kept in step with the payment's
        # `refunded_cents` under the payment's row lock.
        Index(
            "uq_funding_contributions_payment_paid",
            "payment_id",
            unique=True,
            postgresql_where=text("amount_cents > 0"),
        ),
        Index("ix_funding_contributions_target", "target_kind", "target_id"),
        # A form sent twice records once: its key, once per admin (migration 0035).
        Index(
            "uq_funding_contributions_form_key",
            "recorded_by",
            "form_key",
            unique=True,
            postgresql_where=text("form_key IS NOT NULL"),
        ),
        Index(
            "ix_funding_contributions_corrects_id",
            "corrects_id",
            postgresql_where=text("corrects_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    target_kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(12))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    # The recorded row this one corrects (by the difference to the right amount).
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("funding_contributions.id"))
    name: Mapped[str] = mapped_column(String(100), server_default="")  # who gave (a unit, an office)
    show_name: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    note: Mapped[str] = mapped_column(String(500), server_default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    form_key: Mapped[str | None] = mapped_column(String(40))  # of the admin's form that sent it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StripeEvent(Base):
    """A webhook event, stored once by its id (INSERT ... ON CONFLICT DO NOTHING) and handled
    once by a job (`handled_at`)."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        Index("ix_stripe_events_waiting", "received_at", postgresql_where=text("handled_at IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(40), server_default="")


class OfflineSession(Base):
    """A Checkout session of the offline test Stripe (app.payments.fake): what the real Stripe
    would keep, kept here so that every worker of the demo sees the same sessions."""

    __tablename__ = "offline_stripe_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
