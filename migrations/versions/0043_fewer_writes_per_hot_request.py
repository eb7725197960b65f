"""fewer index entries and foreign-key checks per scan, order and voucher

Each request of the four hot statements (a scan's check-in or check-out, an order, a voucher's
purchase and its redemption) wrote index entries and ran foreign-key checks that no reader needs
(docs/scaling.md, "PostgreSQL's share of a hot request"). Measured with EXPLAIN (ANALYZE, BUFFERS,
WAL) at the benches' size; what goes, and why nothing is lost:

- `ix_scans_event_id_at`, `ix_scans_community_id_at`: no statement of the app reads the scan log
  by event or by community (it is the door's audit record; the app reads only a scanner's wrong
  typed digits, by migration 0042's partial index); every scan and every redemption wrote both.
- `ix_ledger_holds_debit`: no statement reads holds by their debit account (a wallet's held
  points are its cached `held`; `jinlin ledger verify` sums every pending hold, a scan of its
  own). Every order and purchase wrote it, and every redemption wrote it again (the hold's
  update changes its status, so it is not HOT).
- `ix_circle_vouchers_user_id_created_at`: a person's vouchers are found by the unique
  `(user_id, idempotency_key)` index, which leads with the same column (the page shows the
  latest hundred of a person's few, sorted). Every purchase and redemption wrote it.
- `ix_event_checkins_community_id_checked_out_at` becomes partial (`checked_out_at IS NOT
  NULL`): its readers ask for stays that ended within a period, which implies it, and a
  check-in no longer writes an entry of NULL.
- The foreign keys of `event_checkins` (to `events` and `users`) and of `audit_entries.actor_id`
  (to `users`): each check-in share-locked its event's row, one row for everyone at the event,
  and each redemption's audit row the scanner's row, one for the whole counter (DESIGN.md §4:
  no foreign key whose check locks one hot row per write; the ledger has none either). Neither
  guards points or money: a stay's award goes through the ledger's own keys and the wallet's
  unique index; events and users are never deleted (the app has no such statement), so the
  cascades had nothing to do; the ids come from a signed kiosk code or the request's actor.

Revision ID: 0043
Revises: 0042
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_scans_event_id_at", table_name="scans")
    op.drop_index("ix_scans_community_id_at", table_name="scans")
    op.drop_index("ix_ledger_holds_debit", table_name="ledger_holds")
    op.drop_index("ix_circle_vouchers_user_id_created_at", table_name="circle_vouchers")
    op.drop_index("ix_event_checkins_community_id_checked_out_at", table_name="event_checkins")
    op.create_index(
        "ix_event_checkins_community_id_checked_out_at",
        "event_checkins",
        ["community_id", "checked_out_at"],
        postgresql_where=sa.text("checked_out_at IS NOT NULL"),
    )
    op.drop_constraint("fk_event_checkins_event_id_events", "event_checkins", type_="foreignkey")
    op.drop_constraint("fk_event_checkins_user_id_users", "event_checkins", type_="foreignkey")
    op.drop_constraint("fk_audit_entries_actor_id_users", "audit_entries", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key(
        "fk_audit_entries_actor_id_users", "audit_entries", "users", ["actor_id"], ["id"], ondelete="SET NULL"
    )
    op.create_foreign_key(
        "fk_event_checkins_user_id_users", "event_checkins", "users", ["user_id"], ["id"], ondelete="CASCADE"
    )
    op.create_foreign_key(
        "fk_event_checkins_event_id_events",
        "event_checkins",
        "events",
        ["event_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_index("ix_event_checkins_community_id_checked_out_at", table_name="event_checkins")
    op.create_index(
        "ix_event_checkins_community_id_checked_out_at", "event_checkins", ["community_id", "checked_out_at"]
    )
    op.create_index(
        "ix_circle_vouchers_user_id_created_at", "circle_vouchers", ["user_id", "created_at"]
    )
    op.create_index("ix_ledger_holds_debit", "ledger_holds", ["debit_account_id", "status"])
    op.create_index("ix_scans_community_id_at", "scans", ["community_id", "at"])
    op.create_index("ix_scans_event_id_at", "scans", ["event_id", "at"])
