"""notices: a person's notices (kind and parameters, once per key), the kinds they turned off,
each community's outgoing webhook and its deliveries

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("params", JSONB(), server_default="{}", nullable=False),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("url", sa.String(300), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_notices_user_id_id", "notices", ["user_id", "id"])
    op.create_index("ix_notices_unread", "notices", ["user_id"], postgresql_where=sa.text("read_at IS NULL"))
    op.create_table(
        "notice_mutes",
        sa.Column(
            "user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("kind", sa.String(40), primary_key=True),
    )
    op.create_table(
        "notice_webhooks",
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), primary_key=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column(
            "notice_id",
            sa.BigInteger(),
            sa.ForeignKey("notices.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("status", sa.String(10), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("last_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(200), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
    )
    op.create_index(
        "ix_notice_deliveries_due",
        "notice_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_notice_deliveries_community_id_id", "notice_deliveries", ["community_id", "id"])


def downgrade() -> None:
    op.drop_table("notice_deliveries")
    op.drop_table("notice_webhooks")
    op.drop_table("notice_mutes")
    op.drop_index("ix_notices_unread", table_name="notices")
    op.drop_index("ix_notices_user_id_id", table_name="notices")
    op.drop_table("notices")
