"""ledger_transfers: the account and community indexes ordered by time, then id

The statement and the admin ledger list transfers newest first by when their points moved
(created_at), the id breaking ties: a stay closed at the event's scheduled end, or a demo's
past event, has a later id than transfers made after it. The three indexes keep their names and
their number (no extra work per transfer); their order becomes (created_at, id).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_ledger_transfers_debit": "debit_account_id",
    "ix_ledger_transfers_credit": "credit_account_id",
    "ix_ledger_transfers_community": "community_id",
}


def upgrade() -> None:
    for name, column in INDEXES.items():
        op.drop_index(name, table_name="ledger_transfers")
        op.create_index(name, "ledger_transfers", [column, "created_at", "id"])


def downgrade() -> None:
    for name, column in INDEXES.items():
        op.drop_index(name, table_name="ledger_transfers")
        op.create_index(name, "ledger_transfers", [column, "id"])
