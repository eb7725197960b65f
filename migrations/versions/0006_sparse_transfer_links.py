"""ledger_transfers: a transfer's reversal and hold links unique only where set

`reverses_id` and `hold_id` are NULL on almost every transfer (awards, check-outs, deductions),
yet their unique constraints indexed every NULL: two index entries per transfer that no query
reads. Partial unique indexes keep the rules (a transfer is reversed once, a hold posts once)
and index only the rows that have a link.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LINKS = ("reverses_id", "hold_id")


def upgrade() -> None:
    for column in LINKS:
        op.drop_constraint(f"uq_ledger_transfers_{column}", "ledger_transfers", type_="unique")
        op.create_index(
            f"uq_ledger_transfers_{column}",
            "ledger_transfers",
            [column],
            unique=True,
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )


def downgrade() -> None:
    for column in LINKS:
        op.drop_index(f"uq_ledger_transfers_{column}", table_name="ledger_transfers")
        op.create_unique_constraint(f"uq_ledger_transfers_{column}", "ledger_transfers", [column])
