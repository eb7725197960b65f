"""contribution corrections: a contribution the admin recorded is corrected by a new row that
names it (`corrects_id`) and says why (its note); a recorded row that takes money away is only
ever such a correction (or an online refund), and a correction's note is never empty

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "funding_contributions",
        sa.Column("corrects_id", sa.BigInteger(), sa.ForeignKey("funding_contributions.id"), nullable=True),
    )
    op.create_index(
        "ix_funding_contributions_corrects_id",
        "funding_contributions",
        ["corrects_id"],
        postgresql_where=sa.text("corrects_id IS NOT NULL"),
    )
    op.create_check_constraint(
        "negative_is_refund_or_correction",
        "funding_contributions",
        "amount_cents > 0 OR payment_id IS NOT NULL OR corrects_id IS NOT NULL",
    )
    op.create_check_constraint(
        "correction_has_reason",
        "funding_contributions",
        "corrects_id IS NULL OR (payment_id IS NULL AND note <> '')",
    )


def downgrade() -> None:
    # Dropping the column drops its index and both checks, which name it.
    op.drop_column("funding_contributions", "corrects_id")
