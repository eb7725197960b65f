"""the circle's log reads the redemptions of the audit trail without reading every audit row

The view audit_trail (migration 0047) shows a voucher's redemption as an audit entry unless an
audit row of it was written before that migration, which it asks of audit_entries by action and
target; audit_entries had no index for that, so each read of the view through the circle's log
page (/circle/admin/c/{id}/log) read every audit row of every community: 1.2 s with a million
rows, twice a page (its count and its entries). A partial index of those old rows' targets
answers it; no audit row written now enters it.

Revision ID: 0054
Revises: 0053
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0054"
down_revision = "0053"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_entries_redeemed_target",
        "audit_entries",
        ["target"],
        postgresql_where=sa.text("action = 'circle.voucher_redeemed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_entries_redeemed_target", table_name="audit_entries")
