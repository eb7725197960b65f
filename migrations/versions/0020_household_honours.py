"""household honours: 邻里一家亲, awarded by an admin to a household (an address) for a year

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "household_honours",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("compound_id", sa.BigInteger(), sa.ForeignKey("compounds.id"), nullable=False),
        sa.Column("building_id", sa.BigInteger(), sa.ForeignKey("buildings.id"), nullable=True),
        sa.Column("room", sa.String(20), server_default="", nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(200), server_default="", nullable=False),
        sa.Column("awarded_by", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
    )
    op.create_index(
        "uq_household_honours_household_year",
        "household_honours",
        ["community_id", "compound_id", sa.text("COALESCE(building_id, 0)"), "room", "year"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_household_honours_household_year", table_name="household_honours")
    op.drop_table("household_honours")
