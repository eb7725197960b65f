"""the rows the other creating page forms make keep the form's key, once per author

A store item's form (with its photo), a service offer's (the admin's, or a provider's proposal),
a co-building agreement's and its task lines, a resource's, a need's and a project's, a stock
change's, a claim of hours (or honour hours entered by an admin) and a results-wall story's: each
sent twice (a double tap, a resend after a slow answer) made its row twice. Each row now keeps
its form's key under a partial unique index per author, as wishes, events and contributions do
(migrations 0035, 0037, 0038); a second sending finds the first and makes nothing. A store item
and an agreement's task line learn who created them, the author their keys are kept under.

Revision ID: 0040
Revises: 0039
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

# table -> the column naming the author each key is kept under
KEYED = {
    "store_items": "created_by",
    "store_stock_moves": "actor_id",
    "circle_offers": "created_by",
    "agreements": "created_by",
    "agreement_tasks": "created_by",
    "resources": "created_by",
    "needs": "created_by",
    "projects": "created_by",
    "hour_claims": "entered_by",
    "wall_stories": "created_by",
}


def upgrade() -> None:
    # The store names people by id without a foreign key, as its stock moves and photos do.
    op.add_column("store_items", sa.Column("created_by", sa.BigInteger(), nullable=True))
    op.add_column(
        "agreement_tasks",
        sa.Column("created_by", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    for table, author in KEYED.items():
        op.add_column(table, sa.Column("form_key", sa.String(40), nullable=True))
        op.create_index(
            f"uq_{table}_form_key",
            table,
            [author, "form_key"],
            unique=True,
            postgresql_where=sa.text("form_key IS NOT NULL"),
        )


def downgrade() -> None:
    for table in KEYED:
        op.drop_index(f"uq_{table}_form_key", table_name=table)
        op.drop_column(table, "form_key")
    op.drop_column("agreement_tasks", "created_by")
    op.drop_column("store_items", "created_by")
