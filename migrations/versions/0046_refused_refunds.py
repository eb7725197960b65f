"""a payment keeps Stripe's refusal of its refund, so that the refund job stops asking

The job that refunds the cash part of vouchers closed unused asked Stripe again every minute,
for ever, when Stripe refused the refund for good (a 4xx: the charge already refunded in its
dashboard, or disputed). A payment now keeps when and why its refund was refused; the job skips
it, the admin's money page lists it with the reason, and the admin asks again by hand once the
cause is dealt with (each new asking after a refusal goes under a key of its own, since Stripe
answers a repeated key with its first answer).

Revision ID: 0046
Revises: 0045
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("refund_refused_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "payments", sa.Column("refund_refusal", sa.String(500), nullable=False, server_default="")
    )
    op.add_column(
        "payments", sa.Column("refund_refusals", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    op.create_index(
        "ix_payments_refund_refused",
        "payments",
        ["community_id"],
        postgresql_where=sa.text("refund_refused_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_payments_refund_refused", table_name="payments")
    op.drop_column("payments", "refund_refusals")
    op.drop_column("payments", "refund_refusal")
    op.drop_column("payments", "refund_refused_at")
