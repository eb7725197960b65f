"""a wallet is found by its community and its member, never by its member alone

`ix_ledger_accounts_user_id` served no statement: every lookup of an account by its member names
the community too (`uq_ledger_accounts_wallet`), and a system account is found by
`uq_ledger_accounts_system` (migration 0043's queries state its condition whole). Every statement
that updates a wallet (a check-out's award, an order, a voucher's purchase and redemption) opened
and locked it with the table's other indexes, and each new wallet wrote an entry to it.

Revision ID: 0044
Revises: 0043
"""

from __future__ import annotations

from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_ledger_accounts_user_id", table_name="ledger_accounts")


def downgrade() -> None:
    op.create_index("ix_ledger_accounts_user_id", "ledger_accounts", ["user_id"])
