"""a voucher's redemption is recorded on its own row; the view audit_trail shows it as an entry

A redemption wrote who redeemed the voucher, when and with which transfer on the voucher's row,
and the same again as an audit row (and, scanned, its scan log row): three rows saying one thing,
the audit row the dearest part of the redemption's one statement after the ledger's (measured in
docs/scaling.md, "The service circle's vouchers"). The voucher's row now keeps where the
redemption came from too (`redeemed_address`), which makes it a whole audit entry (who, what,
when, from where); no audit row is written for it. The view `audit_trail` is the audit log to
read: every row of audit_entries, and one entry per redeemed voucher that has none there (those
redeemed before this revision keep theirs).

Revision ID: 0047
Revises: 0046
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None

_ACTION = "circle.voucher_redeemed"


def upgrade() -> None:
    op.add_column("circle_vouchers", sa.Column("redeemed_address", sa.String(64), nullable=True))
    op.execute(
        f"""
CREATE VIEW audit_trail AS
  SELECT a.id, a.community_id, a.actor_id, a.action, a.target, a.data, a.address, a.created_at
  FROM audit_entries a
  UNION ALL
  SELECT NULL, v.community_id, v.redeemed_by, CAST('{_ACTION}' AS varchar(64)),
    CAST('circle_voucher:' || v.id AS varchar(128)), jsonb_build_object('transfer_id', v.transfer_id),
    v.redeemed_address, v.redeemed_at
  FROM circle_vouchers v
  WHERE v.redeemed_at IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM audit_entries e WHERE e.action = '{_ACTION}' AND e.target = 'circle_voucher:' || v.id)
"""
    )


def downgrade() -> None:
    # The code before this revision reads redemptions from audit rows: each voucher redeemed since
    # gets the one it would have written.
    op.execute(
        f"""
INSERT INTO audit_entries (community_id, actor_id, action, target, data, address, created_at)
SELECT community_id, actor_id, action, target, data, address, created_at FROM audit_trail
WHERE id IS NULL AND action = '{_ACTION}'
"""
    )
    op.execute("DROP VIEW audit_trail")
    op.drop_column("circle_vouchers", "redeemed_address")
