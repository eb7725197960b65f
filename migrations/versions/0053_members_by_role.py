"""a community's admins, and those who may organise its events, are read by name from indexes

A street's page names each community's admins, and an event's form offers the community's
volunteers, grid workers, staff and admins as its organisers. Both read the members of the roles
through the community's index by name (migration 0049) and left out every other member, so a
community of 20,000 residents and a few dozen helpers was read whole for each. Two partial
indexes keep the members of those roles by name, `(community_id, display_name, user_id)` as the
index of every member: their predicates are spelled as app.accounts.models spells the queries'.

Revision ID: 0053
Revises: 0052
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0053"
down_revision = "0052"
branch_labels = None
depends_on = None

ADMINS = "roles @> ARRAY['admin']::varchar[]"
ORGANISERS = "roles && ARRAY['volunteer', 'grid_worker', 'staff', 'admin']::varchar[]"


def upgrade() -> None:
    op.create_index(
        "ix_memberships_admins_name",
        "memberships",
        ["community_id", "display_name", "user_id"],
        postgresql_where=sa.text(ADMINS),
    )
    op.create_index(
        "ix_memberships_organisers_name",
        "memberships",
        ["community_id", "display_name", "user_id"],
        postgresql_where=sa.text(ORGANISERS),
    )


def downgrade() -> None:
    op.drop_index("ix_memberships_organisers_name", table_name="memberships")
    op.drop_index("ix_memberships_admins_name", table_name="memberships")
