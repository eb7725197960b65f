"""store_order_refusal(): whether an order can be placed, one rule for every statement

Placing an order checks the item in SQL (the one-statement order, the savepoint's reservation,
the read before and the diagnosis after): each of them calls this function, which PostgreSQL
inlines into the statement. NULL when the order can be placed, else API.md's code.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE FUNCTION store_order_refusal(active boolean, stock integer, quantity integer,
                                    monthly_limit integer, used_this_month bigint)
RETURNS varchar LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN NOT active OR stock < quantity THEN 'out_of_stock'
    WHEN monthly_limit IS NOT NULL AND used_this_month + quantity > monthly_limit THEN 'limit_reached'
  END
$$
"""
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION store_order_refusal(boolean, integer, integer, integer, bigint)")
