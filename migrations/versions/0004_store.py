"""store: items, photos, stock moves, orders, settings (the love supermarket)

Revision ID: 0004
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "store_photos",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("filename", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')", name="content_type"),
        sa.UniqueConstraint("filename"),
    )
    op.create_index("ix_store_photos_community_id", "store_photos", ["community_id"])

    op.create_table(
        "store_items",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("category", sa.String(50), server_default="", nullable=False),
        sa.Column("points_price", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), server_default="0", nullable=False),
        sa.Column("per_resident_limit", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("display_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "photo_id", sa.BigInteger(), sa.ForeignKey("store_photos.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
        sa.CheckConstraint("points_price > 0", name="price_positive"),
        sa.CheckConstraint("per_resident_limit IS NULL OR per_resident_limit > 0", name="limit_positive"),
    )
    op.create_index(
        "ix_store_items_community_id_order", "store_items", ["community_id", "display_order", "id"]
    )

    op.create_table(
        "store_stock_moves",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("partner", sa.String(100), server_default="", nullable=False),
        sa.Column("reason", sa.String(300), server_default="", nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint(
            "kind IN ('initial','restock','donation','correction','reserve','release','pickup')", name="kind"
        ),
        sa.CheckConstraint("delta <> 0 OR kind IN ('pickup', 'initial')", name="delta_nonzero"),
    )
    op.create_index("ix_store_stock_moves_item_id_id", "store_stock_moves", ["item_id", "id"])

    op.create_table(
        "store_orders",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(12), server_default="held", nullable=False),
        sa.Column("hold_id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("pickup_secret", sa.String(40), nullable=False),
        sa.Column("pickup_digits", sa.String(8), nullable=False),
        sa.Column("qr_svg", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("placed_by", sa.BigInteger(), nullable=True),
        sa.Column("picked_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("picked_up_by", sa.BigInteger(), nullable=True),
        sa.Column("pickup_key", sa.String(100), nullable=True),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.BigInteger(), nullable=True),
        sa.Column("close_reason", sa.String(300), server_default="", nullable=False),
        sa.CheckConstraint("status IN ('held','picked_up','cancelled','expired')", name="status"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("points > 0", name="points_positive"),
        sa.UniqueConstraint("user_id", "idempotency_key", name="uq_store_orders_user_id_key"),
        sa.UniqueConstraint("pickup_secret"),
    )
    op.create_index(
        "ix_store_orders_community_id_status", "store_orders", ["community_id", "status", "created_at"]
    )
    op.create_index("ix_store_orders_user_id_item_id", "store_orders", ["user_id", "item_id", "created_at"])
    op.create_index(
        "ix_store_orders_held_digits",
        "store_orders",
        ["pickup_digits"],
        postgresql_where=sa.text("status = 'held'"),
    )
    op.create_index(
        "ix_store_orders_held_expiry",
        "store_orders",
        ["expires_at"],
        postgresql_where=sa.text("status = 'held'"),
    )

    op.create_table(
        "store_settings",
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), primary_key=True),
        sa.Column("pickup_days", sa.Integer(), server_default="7", nullable=False),
        sa.Column("low_stock", sa.Integer(), server_default="3", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_settings")
    op.drop_index("ix_store_orders_held_expiry", table_name="store_orders")
    op.drop_index("ix_store_orders_held_digits", table_name="store_orders")
    op.drop_index("ix_store_orders_user_id_item_id", table_name="store_orders")
    op.drop_index("ix_store_orders_community_id_status", table_name="store_orders")
    op.drop_table("store_orders")
    op.drop_index("ix_store_stock_moves_item_id_id", table_name="store_stock_moves")
    op.drop_table("store_stock_moves")
    op.drop_index("ix_store_items_community_id_order", table_name="store_items")
    op.drop_table("store_items")
    op.drop_index("ix_store_photos_community_id", table_name="store_photos")
    op.drop_table("store_photos")
