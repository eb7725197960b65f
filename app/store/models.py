"""Store tables.

- ``store_items``: the catalogue of one community; ``stock`` is what can still be ordered
  (an order reserves its quantity at once, cancel and expiry give it back).
- ``store_stock_moves``: every change of ``stock`` with its reason; the moves of an item always
  add up to its stock (``initial``, ``restock``, ``donation``, ``correction``, ``reserve``,
  ``release``; ``pickup`` rows have delta 0 and record when goods left the shelf).
- ``store_orders``: one item × quantity for one resident; the points are a ledger hold until
  pickup. ``pickup_secret`` is the random single-use part of the QR code (``JP1-<secret>``),
  ``pickup_digits`` the 8 digits typed by hand; the QR image is made once and kept in ``qr_svg``.
- ``store_photos``: re-encoded uploads kept under the data directory with server-chosen names.
- ``store_settings``: per community: how long a pickup code is valid, what counts as low stock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
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

ORDER_STATUSES = ("held", "picked_up", "cancelled", "expired")
MOVE_KINDS = ("initial", "restock", "donation", "correction", "reserve", "release", "pickup")


class StorePhoto(StoredPhoto, Base):
    __tablename__ = "store_photos"


class StoreItem(Base):
    __tablename__ = "store_items"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("points_price > 0", name="price_positive"),
        CheckConstraint("per_resident_limit IS NULL OR per_resident_limit > 0", name="limit_positive"),
        Index("ix_store_items_community_id_order", "community_id", "display_order", "id"),
        form_keys.unique_index("store_items", "created_by"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    category: Mapped[str] = mapped_column(String(50), default="", server_default="")
    points_price: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Most a resident may order per calendar month; None: no limit.
    per_resident_limit: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    display_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("store_photos.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    form_key: Mapped[str | None] = mapped_column(String(form_keys.LENGTH))  # of the page form that made it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StockMove(Base):
    __tablename__ = "store_stock_moves"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('initial','restock','donation','correction','reserve','release','pickup')", name="kind"
        ),
        CheckConstraint("delta <> 0 OR kind IN ('pickup', 'initial')", name="delta_nonzero"),
        Index("ix_store_stock_moves_item_id_id", "item_id", "id"),
        form_keys.unique_index("store_stock_moves", "actor_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(BigInteger)
    # No FK: the hot order path inserts here and must not share-lock the item row twice.
    item_id: Mapped[int] = mapped_column(BigInteger)
    delta: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    partner: Mapped[str] = mapped_column(String(100), default="", server_default="")
    reason: Mapped[str] = mapped_column(String(300), default="", server_default="")
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    form_key: Mapped[str | None] = mapped_column(String(form_keys.LENGTH))  # of the page form that made it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StoreOrder(Base):
    __tablename__ = "store_orders"
    __table_args__ = (
        CheckConstraint("status IN ('held','picked_up','cancelled','expired')", name="status"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("points > 0", name="points_positive"),
        UniqueConstraint("user_id", "idempotency_key", name="uq_store_orders_user_id_key"),
        Index("ix_store_orders_community_id_status", "community_id", "status", "created_at"),
        Index("ix_store_orders_user_id_item_id", "user_id", "item_id", "created_at"),
        Index(
            "ix_store_orders_held_digits",
            "pickup_digits",
            postgresql_where=text("status = 'held'"),
        ),
        Index("ix_store_orders_held_expiry", "expires_at", postgresql_where=text("status = 'held'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(BigInteger)
    item_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="held", server_default="held")
    hold_id: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    pickup_secret: Mapped[str] = mapped_column(String(40), unique=True)
    pickup_digits: Mapped[str] = mapped_column(String(8))
    qr_svg: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set when staff placed the order at the counter for a resident without a phone.
    placed_by: Mapped[int | None] = mapped_column(BigInteger)
    picked_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    picked_up_by: Mapped[int | None] = mapped_column(BigInteger)
    # The scan's idempotency key: the same scan sent again answers "picked_up" again.
    pickup_key: Mapped[str | None] = mapped_column(String(100))
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(BigInteger)
    close_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")


class StoreSettings(Base):
    __tablename__ = "store_settings"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    pickup_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    low_stock: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
