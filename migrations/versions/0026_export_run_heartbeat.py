"""export runs: a heartbeat and the attempts, so a run whose worker died is made again (and given
up, with the reason its admin reads, after a few attempts)

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("export_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("export_runs", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("export_runs", sa.Column("failure", sa.String(20), nullable=False, server_default=""))
    op.alter_column("export_runs", "lang", server_default="zh")
    op.execute("UPDATE export_runs SET lang = 'zh' WHERE lang = 'zh-Hans'")


def downgrade() -> None:
    op.alter_column("export_runs", "lang", server_default="zh-Hans")
    op.drop_column("export_runs", "failure")
    op.drop_column("export_runs", "attempts")
    op.drop_column("export_runs", "heartbeat_at")
