"""an event keeps the key of the page form that created it, once per creator

An event form sent twice (a double tap on 创建, or a resend after a slow answer) created the event,
or the weekly series, twice; its second sending now finds the first by the creator and the form's
key and creates nothing. The key is kept on the first event of a series.

Revision ID: 0038
Revises: 0037
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("form_key", sa.String(40), nullable=True))
    op.create_index(
        "uq_events_form_key",
        "events",
        ["created_by", "form_key"],
        unique=True,
        postgresql_where=sa.text("form_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_events_form_key", table_name="events")
    op.drop_column("events", "form_key")
