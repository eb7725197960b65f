"""a resident who moved away: when, and which admin said so

A community's admin takes a resident who has left off the community without deleting anything:
the membership stays (with its ledger account, its history and its place), marked moved away,
and a move back clears the mark. A moved-away member holds no role, is not listed among the
residents by default and may not sign up, order or buy a voucher there.

Revision ID: 0055
Revises: 0054
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0055"
down_revision = "0054"
branch_labels = None
depends_on = None

# Migration 0009's trigger on a membership's change, which tells every worker's actor cache: a
# move away or back changes what the member may do, as a change of roles does.
_COLUMNS = ("user_id", "community_id", "roles")


def _trigger(columns: tuple[str, ...]) -> None:
    op.execute("DROP TRIGGER IF EXISTS memberships_updated ON memberships")
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
    op.execute(
        f"CREATE TRIGGER memberships_updated AFTER UPDATE OF {', '.join(columns)} ON memberships "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION jinlin_notify_row('user_id')"
    )


def upgrade() -> None:
    op.add_column("memberships", sa.Column("moved_away_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "memberships",
        sa.Column(
            "moved_away_by", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
    )
    _trigger((*_COLUMNS, "moved_away_at"))


def downgrade() -> None:
    _trigger(_COLUMNS)
    op.drop_column("memberships", "moved_away_by")
    op.drop_column("memberships", "moved_away_at")
