"""circle photos: an offer's photo, cleaned and stored by app.core.photos under a random name;
the offer points at its record

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "circle_photos",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("filename", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')", name="content_type"),
        sa.UniqueConstraint("filename"),
    )
    op.create_index("ix_circle_photos_community_id", "circle_photos", ["community_id"])
    op.create_foreign_key(
        "fk_circle_offers_photo_id_circle_photos",
        "circle_offers",
        "circle_photos",
        ["photo_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint("fk_circle_offers_photo_id_circle_photos", "circle_offers", type_="foreignkey")
    op.drop_index("ix_circle_photos_community_id", table_name="circle_photos")
    op.drop_table("circle_photos")
