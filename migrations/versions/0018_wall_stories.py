"""the results wall's stories

A community's admins write stories of what it achieved for its public results wall (成果晾晒),
each with at most one photo (a file name the app chose) and a flag that hides it from the wall.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wall_stories",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("photo", sa.String(64), nullable=True),
        sa.Column("hidden", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_by", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("char_length(title) BETWEEN 1 AND 100", name="title"),
        sa.CheckConstraint("char_length(body) <= 2000", name="body"),
    )
    op.create_index("ix_wall_stories_community_id_happened_on", "wall_stories", ["community_id", "happened_on"])


def downgrade() -> None:
    op.drop_index("ix_wall_stories_community_id_happened_on", table_name="wall_stories")
    op.drop_table("wall_stories")
