"""a payment keeps how much of it Stripe has refunded, so that partial refunds add up

Stripe sends `charge.refunded` for every refund of a charge, partial ones included, each time
with the charge's refunded total so far. A donation's first partial refund (30 of 100 yuan,
made in Stripe's dashboard) marked the whole payment refunded and took back the 30; a second
partial refund was then ignored, and the goal's total kept money that had gone back. A payment
now keeps the refunded total: each refund event takes back what it adds to that total (nothing
when it is a repeat or arrives after a later one), and the payment is refunded once the total
reaches its amount. A donation may therefore have several refund rows, so the one-refund index
goes; the payment's row lock, taken by every event applied to it, keeps them in step.

Revision ID: 0039
Revises: 0038
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "payments",
        sa.Column("refunded_cents", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    )
    # What was refunded before: a refunded donation's refund row, else its whole amount.
    op.execute(
        "UPDATE payments p SET refunded_cents = COALESCE((SELECT -sum(f.amount_cents) "
        "FROM funding_contributions f WHERE f.payment_id = p.id AND f.amount_cents < 0), "
        "p.amount_cents) WHERE p.status = 'refunded'"
    )
    op.create_check_constraint(
        "refunded", "payments", "refunded_cents BETWEEN 0 AND amount_cents"
    )
    op.drop_index("uq_funding_contributions_payment_refund", table_name="funding_contributions")


def downgrade() -> None:
    # Below this revision a payment is refunded whole, by one refund row: a payment refunded in
    # part (its refunded total short of its amount) or in several parts cannot be said there, and
    # going down would lose what went back (or fail on the one-refund index). Refused, naming them.
    kept = op.get_bind().execute(
        sa.text(
            "SELECT p.id FROM payments p "
            "WHERE (p.refunded_cents > 0 AND p.refunded_cents < p.amount_cents) OR (SELECT count(*) FROM funding_contributions f WHERE f.payment_id = p.id "
            "AND f.amount_cents < 0) > 1 ORDER BY p.id"
        )
    )
    ids = [str(row[0]) for row in kept]
    if ids:
        raise RuntimeError(
            "Migration 0039 cannot be undone: payments were refunded in part or in several parts "
            f"(payments {', '.join(ids[:50])}{', …' if len(ids) > 50 else ''}), which the schema "
            "below it cannot keep. Nothing was changed. Restore a backup taken before 0039 instead."
        )
    op.create_index(
        "uq_funding_contributions_payment_refund",
        "funding_contributions",
        ["payment_id"],
        unique=True,
        postgresql_where=sa.text("amount_cents < 0"),
    )
    op.drop_constraint("refunded", "payments", type_="check")
    op.drop_column("payments", "refunded_cents")
