"""resident imports: a file of residents an admin uploaded, checked row by row (the dry run), then
imported by a job that records its progress here; the file's rows are staged in an unlogged table
beside it, where the checks and the import are statements over all of them

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("filename", sa.String(200), nullable=False, server_default=""),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="checked"),
        sa.Column("total_rows", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("done_rows", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("joined", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rejected", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('checked', 'queued', 'running', 'done', 'failed', 'expired')", name="status"
        ),
        sa.CheckConstraint("kind IN ('csv', 'xlsx')", name="kind"),
    )
    op.create_index("ix_import_runs_community_id", "import_runs", ["community_id"])
    op.create_index(
        "ix_import_runs_status",
        "import_runs",
        ["status"],
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    # Unlogged: the rows are a working copy of the uploaded file, not the record (the residents
    # and memberships made from them are); after a crash PostgreSQL empties it and a run whose
    # rows are gone is told to upload its file again.
    op.create_table(
        "import_rows",
        sa.Column(
            "run_id", sa.BigInteger(), sa.ForeignKey("import_runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("phone_text", sa.String(200), nullable=False, server_default=""),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("compound", sa.String(200), nullable=False, server_default=""),
        sa.Column("building", sa.String(200), nullable=False, server_default=""),
        sa.Column("roles_text", sa.String(200), nullable=False, server_default=""),
        sa.Column("no_phone_text", sa.String(200), nullable=False, server_default=""),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("no_phone", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("roles", postgresql.ARRAY(sa.String(20)), nullable=False, server_default="{}"),
        sa.Column("compound_id", sa.BigInteger(), nullable=True),
        sa.Column("building_id", sa.BigInteger(), nullable=True),
        sa.Column("errors", postgresql.ARRAY(sa.String(40)), nullable=False, server_default="{}"),
        sa.Column("same_as", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(10), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "row_no"),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("import_rows")
    op.drop_table("import_runs")
