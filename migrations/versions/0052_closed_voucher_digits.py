"""typed digits find a shop's lately closed voucher from an index of the digits

The 8 digits typed at a shop that no open voucher has are looked for among the shop's vouchers
used, cancelled or expired lately, to say "already used", "cancelled" or "expired" instead of
"check the digits". That lookup asked for "redeemed lately OR (cancelled or expired) and closed
lately" over the shop's vouchers, and only the open ones' digits had an index: PostgreSQL read
every voucher in the table (60,000 in the plan test: a busy shop's two years and another's) on
each mistyped number at the counter. An index of the closed vouchers' digits answers it; a
voucher enters it once, when it is used, cancelled or expired.

Revision ID: 0052
Revises: 0051
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0052"
down_revision = "0051"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_circle_vouchers_closed_digits",
        "circle_vouchers",
        ["digits"],
        postgresql_where=sa.text("status IN ('redeemed', 'cancelled', 'expired')"),
    )


def downgrade() -> None:
    op.drop_index("ix_circle_vouchers_closed_digits", table_name="circle_vouchers")
