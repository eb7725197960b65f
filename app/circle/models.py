"""The service circle's tables.

- ``circle_providers``: what the circle adds to an organisation of kind `provider` (its name,
  category, address and location stay with the organisation): opening hours and whether it
  comes to the home.
- ``circle_offers``: a provider's service menu (服务菜单). `pending` until a community admin
  approves it; made by the admin, `active` at once.
- ``circle_photos``: offers' photos, re-encoded uploads kept under the data directory with
  server-chosen names (app.core.photos).
- ``circle_vouchers``: a bought offer: points held (app.ledger) until a member of the provider
  scans it (`redeemed`: the hold is posted to the provider's account), or voided on cancel or
  expiry. No foreign keys on the hot path's rows (each would share-lock a row per purchase).
- ``circle_ratings``: one per redeemed voucher, 1 to 5 stars and a short note.
- ``circle_statements``: a provider's month once the admin closes it; immutable after (a trigger,
  migration 0019), except that a closed month may be marked paid.
- ``circle_settings``: per community: how long a voucher lasts, the cash rate (fen per point) and
  the fund that pays it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core import form_keys
from app.core.database import Base
from app.core.photos import StoredPhoto

OFFER_STATUSES = ("pending", "active", "rejected", "withdrawn")
VOUCHER_STATUSES = ("awaiting_payment", "held", "redeemed", "cancelled", "expired")
STATEMENT_STATUSES = ("closed", "paid")
FUNDS = ("public_finance", "party_dues", "social_support", "own_income")


class Provider(Base):
    __tablename__ = "circle_providers"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    opening_hours: Mapped[str] = mapped_column(String(200), default="", server_default="")
    home_visit: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Photo(StoredPhoto, Base):
    __tablename__ = "circle_photos"


class Offer(Base):
    __tablename__ = "circle_offers"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'active', 'rejected', 'withdrawn')", name="status"),
        CheckConstraint("points_price > 0", name="price_positive"),
        CheckConstraint("cash_price_cents >= 0", name="cash_not_negative"),
        CheckConstraint("monthly_quota IS NULL OR monthly_quota > 0", name="quota_positive"),
        CheckConstraint("per_resident_limit IS NULL OR per_resident_limit > 0", name="limit_positive"),
        Index("ix_circle_offers_community_id_status", "community_id", "status"),
        Index("ix_circle_offers_organisation_id", "organisation_id"),
        form_keys.unique_index("circle_offers", "created_by"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("circle_photos.id", ondelete="SET NULL"))
    points_price: Mapped[int] = mapped_column(Integer)
    cash_price_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Most vouchers sold per calendar month (community time); None: no quota.
    monthly_quota: Mapped[int | None] = mapped_column(Integer)
    # Most one resident may buy per calendar month; None: no limit.
    per_resident_limit: Mapped[int | None] = mapped_column(Integer)
    opening_times: Mapped[str] = mapped_column(String(200), default="", server_default="")
    home_visit: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    review_note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    form_key: Mapped[str | None] = mapped_column(String(form_keys.LENGTH))  # of the page form that made it
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Voucher(Base):
    __tablename__ = "circle_vouchers"
    __table_args__ = (
        CheckConstraint(
            "status IN ('awaiting_payment', 'held', 'redeemed', 'cancelled', 'expired')", name="status"
        ),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("cash_cents >= 0", name="cash_not_negative"),
        UniqueConstraint("user_id", "idempotency_key", name="uq_circle_vouchers_user_id_key"),
        Index("ix_circle_vouchers_offer_id_created_at", "offer_id", "created_at"),
        Index("ix_circle_vouchers_organisation_id_redeemed_at", "organisation_id", "redeemed_at"),
        Index("ix_circle_vouchers_held_digits", "digits", postgresql_where=text("status = 'held'")),
        # The digits of a voucher used, cancelled or expired, which a shop may type again (migration 0052).
        Index(
            "ix_circle_vouchers_closed_digits",
            "digits",
            postgresql_where=text("status IN ('redeemed', 'cancelled', 'expired')"),
        ),
        Index("ix_circle_vouchers_held_expiry", "expires_at", postgresql_where=text("status = 'held'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(BigInteger)
    offer_id: Mapped[int] = mapped_column(BigInteger)
    organisation_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(BigInteger)
    cash_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default="held", server_default="held")
    hold_id: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    secret: Mapped[str] = mapped_column(String(40), unique=True)
    digits: Mapped[str] = mapped_column(String(8))
    qr_svg: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set when a grid worker or staff bought it for a resident without a phone.
    placed_by: Mapped[int | None] = mapped_column(BigInteger)
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    redeemed_by: Mapped[int | None] = mapped_column(BigInteger)
    # The scan's idempotency key: the same scan sent again answers "redeemed" again.
    redeem_key: Mapped[str | None] = mapped_column(String(100))
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)
    # Where the redemption came from (the client's address). With redeemed_by, redeemed_at and
    # transfer_id this row is the redemption's audit entry: the view audit_trail shows it beside
    # audit_entries' rows (migration 0047), and no audit row of its own is written.
    redeemed_address: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(BigInteger)


class Rating(Base):
    __tablename__ = "circle_ratings"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
        Index("ix_circle_ratings_offer_id", "offer_id"),
    )

    voucher_id: Mapped[int] = mapped_column(
        ForeignKey("circle_vouchers.id", ondelete="CASCADE"), primary_key=True
    )
    offer_id: Mapped[int] = mapped_column(ForeignKey("circle_offers.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stars: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Statement(Base):
    __tablename__ = "circle_statements"
    __table_args__ = (
        UniqueConstraint("community_id", "organisation_id", "month"),
        CheckConstraint("status IN ('closed', 'paid')", name="status"),
        CheckConstraint(
            "fund IN ('public_finance', 'party_dues', 'social_support', 'own_income')", name="fund"
        ),
        CheckConstraint("vouchers >= 0 AND points >= 0 AND cash_cents_due >= 0", name="sums"),
        CheckConstraint("cash_collected_cents >= 0", name="cash_collected"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)  # its first day
    vouchers: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(BigInteger)
    fen_per_point: Mapped[int] = mapped_column(Integer)
    cash_cents_due: Mapped[int] = mapped_column(BigInteger)
    # The cash parts of its vouchers, paid through Stripe Checkout (app.circle.cash).
    cash_collected_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    fund: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default="closed", server_default="closed")
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    paid_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Settings(Base):
    __tablename__ = "circle_settings"
    __table_args__ = (
        CheckConstraint("voucher_days BETWEEN 1 AND 365", name="voucher_days"),
        CheckConstraint("fen_per_point BETWEEN 0 AND 100000", name="fen_per_point"),
        CheckConstraint(
            "fund IN ('public_finance', 'party_dues', 'social_support', 'own_income')", name="fund"
        ),
    )

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    voucher_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    fen_per_point: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    fund: Mapped[str] = mapped_column(String(16), default="public_finance", server_default="public_finance")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
