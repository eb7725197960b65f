"""export runs: whether the file has the export's contact columns, decided from the roles of the
admin who asked (a street admin's contributions have none); the contributions' runs made so far
were the community admins' own, with them

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("export_runs", sa.Column("contacts", sa.Boolean(), nullable=False, server_default="false"))
    op.execute("UPDATE export_runs SET contacts = true WHERE name = 'contributions'")


def downgrade() -> None:
    op.drop_column("export_runs", "contacts")
