"""a wish keeps the key of the page form that posted it, once per poster

A wish form sent twice (a double tap on 发布, or a resend after a slow answer) posted the same
wish twice; its second sending now finds the first by the poster and the form's key and posts
nothing.

Revision ID: 0037
Revises: 0036
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("wishes", sa.Column("form_key", sa.String(40), nullable=True))
    op.create_index(
        "uq_wishes_form_key",
        "wishes",
        ["posted_by", "form_key"],
        unique=True,
        postgresql_where=sa.text("form_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_wishes_form_key", table_name="wishes")
    op.drop_column("wishes", "form_key")
