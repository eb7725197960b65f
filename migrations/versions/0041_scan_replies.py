"""a scan sent again with its idempotency key is answered as the first time

A scanner that sends a scan again after a lost answer (a timeout, a dropped connection) carries
the same key; the first successful answer is kept under the scanner and the key, and the repeat
is answered with it instead of `already_done` (or, for a check-in where re-entry is allowed, a
second stay).

Revision ID: 0041
Revises: 0040
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_replies",
        sa.Column("scanner_id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(150), nullable=False),
        sa.Column("code_digest", sa.String(16), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(10), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scanner_id", "idempotency_key"),
    )


def downgrade() -> None:
    op.drop_table("scan_replies")
