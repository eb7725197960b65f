"""whom a member acts for is read on each voucher scan again: its triggers go

Migration 0032 made organisation_members notify its changes so that each worker could remember
whom a scanner acts for and a redemption by QR code be one statement. In same-run A/Bs that memo
was not clearly ahead (docs/scaling.md, "The service circle's vouchers"), so the scan reads it
again and nobody remembers the table; tests/integration/test_change_feed.py requires that no
trigger tells of a table nobody remembers.

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

COLUMNS = ("user_id", "organisation_id", "is_admin")


def upgrade() -> None:
    for suffix in ("rows", "updated", "truncated"):
        op.execute(f"DROP TRIGGER IF EXISTS organisation_members_{suffix} ON organisation_members")


def downgrade() -> None:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COLUMNS)
    op.execute(
        "CREATE TRIGGER organisation_members_rows AFTER INSERT OR DELETE ON organisation_members "
        "FOR EACH ROW EXECUTE FUNCTION jinlin_notify_row('user_id')"
    )
    op.execute(
        f"CREATE TRIGGER organisation_members_updated AFTER UPDATE OF {', '.join(COLUMNS)} "
        f"ON organisation_members FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION jinlin_notify_row('user_id')"
    )
    op.execute(
        "CREATE TRIGGER organisation_members_truncated AFTER TRUNCATE ON organisation_members "
        "FOR EACH STATEMENT EXECUTE FUNCTION jinlin_notify_row()"
    )
