"""a recorded contribution keeps the key of the form that sent it, once per admin

A form sent twice (a double tap) recorded the same money twice; its second sending now finds the
first by the admin and the form's key and changes nothing.

Revision ID: 0035
Revises: 0034
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("funding_contributions", sa.Column("form_key", sa.String(40), nullable=True))
    op.create_index(
        "uq_funding_contributions_form_key",
        "funding_contributions",
        ["recorded_by", "form_key"],
        unique=True,
        postgresql_where=sa.text("form_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_funding_contributions_form_key", table_name="funding_contributions")
    op.drop_column("funding_contributions", "form_key")
