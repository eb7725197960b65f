"""check-ins by community and time, for the dashboards' figures

The events' figures (hours, attendance, active residents) read a community's stays by when they
began or ended. Without an index on those columns every dashboard read all the stays of every
community: with two million stays, a street of 52 communities took 43 s for active residents alone.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_event_checkins_community_id_checked_in_at", "event_checkins", ["community_id", "checked_in_at"])
    op.create_index(
        "ix_event_checkins_community_id_checked_out_at", "event_checkins", ["community_id", "checked_out_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_event_checkins_community_id_checked_out_at", table_name="event_checkins")
    op.drop_index("ix_event_checkins_community_id_checked_in_at", table_name="event_checkins")
