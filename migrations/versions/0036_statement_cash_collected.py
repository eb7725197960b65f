"""a provider's monthly statement keeps the cash its vouchers' cash parts brought in

A voucher with a cash part is paid through Stripe Checkout (app.circle.cash); the provider's
statement shows that cash beside the points: counted from the paid payments of the vouchers
redeemed in the month while it is open, and kept, as every other figure, when the month is
closed. The immutability trigger of migration 0019 covers the new column too.

Revision ID: 0036
Revises: 0035
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


# Migration 0019's function, and the same with the new column among those a payment leaves as
# they were (the downgrade puts 0019's back, to the letter).
BEFORE = """
CREATE OR REPLACE FUNCTION circle_statement_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'closed' AND NEW.status = 'paid'
       AND (NEW.id, NEW.community_id, NEW.organisation_id, NEW.month, NEW.vouchers, NEW.points,
            NEW.fen_per_point, NEW.cash_cents_due, NEW.fund, NEW.transfer_id, NEW.closed_by, NEW.closed_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.community_id, OLD.organisation_id, OLD.month, OLD.vouchers, OLD.points,
            OLD.fen_per_point, OLD.cash_cents_due, OLD.fund, OLD.transfer_id, OLD.closed_by, OLD.closed_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a closed statement cannot change' USING ERRCODE = 'check_violation';
END $$;
"""
AFTER = BEFORE.replace("NEW.closed_at)", "NEW.closed_at, NEW.cash_collected_cents)").replace(
    "OLD.closed_at)", "OLD.closed_at, OLD.cash_collected_cents)"
)


def upgrade() -> None:
    op.add_column(
        "circle_statements",
        sa.Column("cash_collected_cents", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_circle_statements_cash_collected"), "circle_statements", "cash_collected_cents >= 0"
    )
    op.execute(AFTER)


def downgrade() -> None:
    op.execute(BEFORE)
    op.drop_constraint(op.f("ck_circle_statements_cash_collected"), "circle_statements", type_="check")
    op.drop_column("circle_statements", "cash_collected_cents")
