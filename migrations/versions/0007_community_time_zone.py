"""communities.time_zone: the zone every date rule and displayed time of a community uses

Hour claims were refused from 00:00 to 08:00 China time because "today" was the UTC date, and
times were shown in UTC. Each community gets an IANA zone name, Asia/Shanghai unless set.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "communities",
        sa.Column("time_zone", sa.String(64), nullable=False, server_default="Asia/Shanghai"),
    )


def downgrade() -> None:
    op.drop_column("communities", "time_zone")
