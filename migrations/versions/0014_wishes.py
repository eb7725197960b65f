"""wishes: micro-wishes and each community's wish settings

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _user(name: str, ondelete: str = "SET NULL", nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey("users.id", ondelete=ondelete), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "wishes",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        _user("beneficiary_id", ondelete="CASCADE", nullable=False),
        _user("posted_by"),
        sa.Column("consent_note", sa.String(500), server_default="", nullable=False),
        sa.Column("status", sa.String(12), server_default="submitted", nullable=False),
        sa.Column("review_note", sa.String(500), server_default="", nullable=False),
        _user("reviewed_by"),
        _user("claimed_by"),
        sa.Column("claimed_organisation_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        _user("delivered_scanned_by"),
        sa.Column("points_paid", sa.Integer(), server_default="0", nullable=False),
        sa.Column("thanks_note", sa.String(1000), server_default="", nullable=False),
        sa.Column("thanks_photo", sa.String(200), server_default="", nullable=False),
        sa.Column("thanked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("funding_goal_cents", sa.BigInteger(), nullable=True),
        sa.Column("funded_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('submitted', 'published', 'rejected', 'claimed', 'delivered')", name="status"
        ),
        sa.CheckConstraint("funding_goal_cents IS NULL OR funding_goal_cents > 0", name="funding_goal"),
        sa.CheckConstraint("funded_cents >= 0", name="funded"),
        sa.CheckConstraint("(status IN ('claimed', 'delivered')) = (claimed_by IS NOT NULL)", name="claimant"),
    )
    op.create_index("ix_wishes_community_status", "wishes", ["community_id", "status"])
    op.create_index("ix_wishes_beneficiary_id", "wishes", ["beneficiary_id"])
    op.create_table(
        "wish_settings",
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), primary_key=True),
        sa.Column("points", sa.Integer(), server_default="20", nullable=False),
        sa.Column("stale_days", sa.Integer(), server_default="14", nullable=False),
        sa.CheckConstraint("points >= 0", name="points"),
        sa.CheckConstraint("stale_days >= 1", name="stale_days"),
    )


def downgrade() -> None:
    op.drop_table("wish_settings")
    op.drop_index("ix_wishes_beneficiary_id", table_name="wishes")
    op.drop_index("ix_wishes_community_status", table_name="wishes")
    op.drop_table("wishes")
