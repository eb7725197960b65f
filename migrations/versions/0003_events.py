"""events: events, sign-ups, check-ins, hour claims, scans

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CATEGORY = "category IN ('service','cleanup','council','suggestion','other')"


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("place", sa.String(200), server_default="", nullable=False),
        sa.Column("compound_id", sa.BigInteger(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("signup_required", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("points_per_attendance", sa.Integer(), server_default="0", nullable=False),
        sa.Column("points_per_hour", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_points", sa.Integer(), nullable=True),
        sa.Column("auto_award", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("kiosk_enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("kiosk_confirmation", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("reentry_allowed", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("organiser_ids", postgresql.ARRAY(sa.BigInteger()), server_default="{}", nullable=False),
        sa.Column("status", sa.String(12), server_default="open", nullable=False),
        sa.Column("attendee_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("series_id", sa.String(32), nullable=True),
        sa.Column("headcount", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(200), server_default="", nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(CATEGORY, name=op.f("ck_events_category")),
        sa.CheckConstraint("status IN ('open','cancelled','closed')", name=op.f("ck_events_status")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_events_ends_after_start")),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name=op.f("ck_events_capacity")),
        sa.CheckConstraint("points_per_attendance >= 0 AND points_per_hour >= 0", name=op.f("ck_events_points")),
        sa.CheckConstraint("max_points IS NULL OR max_points >= 0", name=op.f("ck_events_max_points")),
        sa.CheckConstraint("attendee_count >= 0", name=op.f("ck_events_attendee_count")),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], name=op.f("fk_events_community_id_communities")),
        sa.ForeignKeyConstraint(["compound_id"], ["compounds.id"], name=op.f("fk_events_compound_id_compounds")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_events_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_community_id_starts_at", "events", ["community_id", "starts_at"])
    op.create_index(op.f("ix_events_series_id"), "events", ["series_id"])

    op.create_table(
        "event_signups",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('signed_up','waitlisted','cancelled')", name=op.f("ck_event_signups_status")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_signups_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_event_signups_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_signups")),
        sa.UniqueConstraint("event_id", "user_id", name=op.f("uq_event_signups_event_id")),
    )
    op.create_index("ix_event_signups_user_id", "event_signups", ["user_id"])

    op.create_table(
        "event_checkins",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("method_in", sa.String(10), nullable=False),
        sa.Column("method_out", sa.String(10), nullable=True),
        sa.Column("in_by", sa.BigInteger(), nullable=True),
        sa.Column("out_by", sa.BigInteger(), nullable=True),
        sa.Column("minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("points", sa.Integer(), server_default="0", nullable=False),
        sa.Column("award_status", sa.String(12), server_default="none", nullable=False),
        sa.Column("flagged", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("flag_reason", sa.String(40), server_default="", nullable=False),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decision_reason", sa.String(200), server_default="", nullable=False),
        sa.CheckConstraint("method_in IN ('kiosk','witnessed')", name=op.f("ck_event_checkins_method_in")),
        sa.CheckConstraint(
            "award_status IN ('none','awarded','zero','pending','unconfirmed','rejected')",
            name=op.f("ck_event_checkins_award_status"),
        ),
        sa.CheckConstraint("minutes >= 0 AND points >= 0", name=op.f("ck_event_checkins_non_negative")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_event_checkins_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_event_checkins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_checkins")),
        sa.UniqueConstraint("event_id", "user_id", "seq", name=op.f("uq_event_checkins_event_id")),
    )
    op.create_index(
        "uq_event_checkins_one_open",
        "event_checkins",
        ["event_id", "user_id"],
        unique=True,
        postgresql_where=sa.text("checked_out_at IS NULL"),
    )
    op.create_index("ix_event_checkins_user_id", "event_checkins", ["user_id"])
    op.create_index(
        "ix_event_checkins_queue",
        "event_checkins",
        ["community_id", "award_status"],
        postgresql_where=sa.text("award_status IN ('pending','unconfirmed')"),
    )

    op.create_table(
        "hour_claims",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("what", sa.String(200), nullable=False),
        sa.Column("category", sa.String(20), server_default="service", nullable=False),
        sa.Column("worked_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("witness", sa.String(100), server_default="", nullable=False),
        sa.Column("honour", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("converts_to_points", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("status", sa.String(10), server_default="pending", nullable=False),
        sa.Column("points", sa.Integer(), server_default="0", nullable=False),
        sa.Column("transfer_id", sa.BigInteger(), nullable=True),
        sa.Column("entered_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decision_reason", sa.String(200), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending','approved','rejected')", name=op.f("ck_hour_claims_status")),
        sa.CheckConstraint("minutes > 0 AND minutes <= 1440", name=op.f("ck_hour_claims_minutes")),
        sa.CheckConstraint("points >= 0", name=op.f("ck_hour_claims_points")),
        sa.CheckConstraint(CATEGORY, name=op.f("ck_hour_claims_category")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_hour_claims_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_hour_claims_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hour_claims")),
    )
    op.create_index("ix_hour_claims_community_id_status", "hour_claims", ["community_id", "status"])
    op.create_index("ix_hour_claims_user_id", "hour_claims", ["user_id"])

    op.create_table(
        "scans",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("scanner_id", sa.BigInteger(), nullable=True),
        sa.Column("subject_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("action", sa.String(10), nullable=True),
        sa.Column("result", sa.String(30), nullable=False),
        sa.Column("code_digest", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scans")),
    )
    op.create_index("ix_scans_event_id_at", "scans", ["event_id", "at"])
    op.create_index("ix_scans_community_id_at", "scans", ["community_id", "at"])


def downgrade() -> None:
    op.drop_table("scans")
    op.drop_table("hour_claims")
    op.drop_table("event_checkins")
    op.drop_table("event_signups")
    op.drop_table("events")
