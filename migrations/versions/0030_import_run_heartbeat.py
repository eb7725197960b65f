"""import runs: a heartbeat and the attempts, so an import whose job died half way is run again
(its finished chunks are kept and skipped), and failed after a few attempts

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("import_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("import_runs", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("import_runs", "attempts")
    op.drop_column("import_runs", "heartbeat_at")
