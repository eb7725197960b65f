"""wish kinds: a micro-wish is an item (a wheelchair, a school bag) or a service (a repair, company
to a hospital visit), as the seeds describe them; existing wishes are items

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("wishes", sa.Column("kind", sa.String(10), server_default="item", nullable=False))
    op.create_check_constraint("kind", "wishes", "kind IN ('item', 'service')")


def downgrade() -> None:
    # Dropping the column drops its check constraint with it.
    op.drop_column("wishes", "kind")
