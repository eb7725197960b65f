"""ledger_transfers and ledger_holds: a structured reason beside the memo

What a transfer was for is stored as its kind's parameters (an event's title and the minutes
credited, an item's name and the quantity, the date before which points expired) and put into
words in the reader's language when it is shown. The memo stays for what a person typed (an
admin's reason for an award or a reversal) and for rows made before this revision.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A column without a default: no rewrite of the (append-only) table and no trigger fires.
    op.add_column("ledger_transfers", sa.Column("reason", JSONB, nullable=True))
    op.add_column("ledger_holds", sa.Column("reason", JSONB, nullable=True))


def downgrade() -> None:
    op.drop_column("ledger_holds", "reason")
    op.drop_column("ledger_transfers", "reason")
