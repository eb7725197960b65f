"""A micro-wish and its community's wish settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base

STATUSES = ("submitted", "published", "rejected", "claimed", "delivered")


class Wish(Base):
    """A small, concrete need posted for one resident (the beneficiary). A claim names either an
    organisation (any of its members acts for it) or a user alone (a volunteer)."""

    __tablename__ = "wishes"
    __table_args__ = (
        CheckConstraint(
            "status IN ('submitted', 'published', 'rejected', 'claimed', 'delivered')", name="status"
        ),
        CheckConstraint("funding_goal_cents IS NULL OR funding_goal_cents > 0", name="funding_goal"),
        CheckConstraint("kind IN ('item', 'service')", name="kind"),
        # A claimed or delivered wish has its claimant; any other has none.
        CheckConstraint("(status IN ('claimed', 'delivered')) = (claimed_by IS NOT NULL)", name="claimant"),
        Index("ix_wishes_community_status", "community_id", "status"),
        # A page form sent twice posts once: its key, once per poster (migration 0037).
        Index(
            "uq_wishes_form_key",
            "posted_by",
            "form_key",
            unique=True,
            postgresql_where=text("form_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    title: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), server_default="item")  # item | service
    description: Mapped[str] = mapped_column(Text, server_default="")
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    posted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    consent_note: Mapped[str] = mapped_column(String(500), server_default="")
    status: Mapped[str] = mapped_column(String(12), server_default="submitted")
    review_note: Mapped[str] = mapped_column(String(500), server_default="")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_organisation_id: Mapped[int | None] = mapped_column(BigInteger)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_scanned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    points_paid: Mapped[int] = mapped_column(Integer, server_default="0")
    thanks_note: Mapped[str] = mapped_column(String(1000), server_default="")
    thanks_photo: Mapped[str] = mapped_column(String(200), server_default="")
    thanked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    funding_goal_cents: Mapped[int | None] = mapped_column(BigInteger)
    form_key: Mapped[str | None] = mapped_column(String(40))  # of the page form that posted it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WishSettings(Base):
    """Per community: the points a volunteer who claimed as a person receives for a delivered
    wish, and after how many days a claim not delivered goes back to the pool."""

    __tablename__ = "wish_settings"
    __table_args__ = (
        CheckConstraint("points >= 0", name="points"),
        CheckConstraint("stale_days >= 1", name="stale_days"),
    )

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    points: Mapped[int] = mapped_column(Integer, server_default="20")
    stale_days: Mapped[int] = mapped_column(Integer, server_default="14")
