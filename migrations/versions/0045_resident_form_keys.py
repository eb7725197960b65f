"""a membership keeps the key of the residents form that enrolled the person, once per enroller

The residents form sent twice (a double tap on 添加, or a resend after a slow answer) enrolled a
person without a phone (an elder with a printed card) twice: two accounts, two wallets, two
cards. The membership it makes now keeps the form's key under a partial unique index per
enroller, as the other creating forms' rows do (migration 0040); a second sending finds the
first and enrols nobody.

Revision ID: 0045
Revises: 0044
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "memberships",
        sa.Column("added_by", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    op.add_column("memberships", sa.Column("form_key", sa.String(40), nullable=True))
    op.create_index(
        "uq_memberships_form_key",
        "memberships",
        ["added_by", "form_key"],
        unique=True,
        postgresql_where=sa.text("form_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_memberships_form_key", table_name="memberships")
    op.drop_column("memberships", "form_key")
    op.drop_column("memberships", "added_by")
