"""a scanner's wrong typed digits are found in the scan log by a partial index

Typed digits (a voucher's, a pickup code's) are one of 10^8 numbers: a scanner who typed numbers
at random would in time hit their shop's open vouchers or their counter's waiting orders. Each
scan of typed digits first counts the scanner's wrong ones of the last minutes in the scan log
(app.scans.services), through this index of only those rows.

Revision ID: 0042
Revises: 0041
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_scans_wrong_digits",
        "scans",
        ["scanner_id", "at"],
        postgresql_where=sa.text("kind = 'digits' AND result = 'code_invalid'"),
    )


def downgrade() -> None:
    op.drop_index("ix_scans_wrong_digits", table_name="scans")
