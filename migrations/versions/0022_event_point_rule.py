"""the check-out point rule as named SQL functions, one rule for every statement

A stay's credited minutes, the points a check-out adds and what happens to them were decided in
two places: app.events.rules (event close, the approval queue) and the check-out statement's
CTEs (app.events.checkins), held equal by a test. They are these functions now, which the
check-out statement and the approval queue both call and PostgreSQL inlines into each statement
(SQL functions of one expression, IMMUTABLE). The grace after an event's end stays
app.events.rules.GRACE: the caller passes the end of credited time.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
CREATE FUNCTION event_stay_counts(checked_out_at timestamptz, award_status varchar)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT checked_out_at IS NOT NULL AND award_status <> 'rejected'
$$;
COMMENT ON FUNCTION event_stay_counts(timestamptz, varchar) IS
  'Whether a stay counts towards a resident''s minutes and points so far at an event: finished, and not rejected.';

CREATE FUNCTION event_credited_minutes(checked_in_at timestamptz, checked_out_at timestamptz,
                                       credit_until timestamptz)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT greatest(0, floor(extract(epoch FROM least(checked_out_at, credit_until) - checked_in_at) / 60))::int
$$;
COMMENT ON FUNCTION event_credited_minutes(timestamptz, timestamptz, timestamptz) IS
  'A stay''s credited time: from check-in to check-out or the end of credited time (the event''s end and its grace), whichever comes first, in whole minutes, never negative.';

CREATE FUNCTION event_points_due(per_attendance bigint, per_hour bigint, cap bigint,
                                 total_minutes bigint, awarded_so_far bigint)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT greatest(0, greatest(0, least(per_attendance + floor(per_hour * total_minutes / 60.0)::bigint,
                                       coalesce(cap, 9223372036854775807)))
                     - awarded_so_far)::int
$$;
COMMENT ON FUNCTION event_points_due(bigint, bigint, bigint, bigint, bigint) IS
  'What a check-out adds: points for the whole attendance so far (per attendance once, per hour prorated by the minute and rounded down, capped per event), less what was awarded already; never negative.';

CREATE FUNCTION event_award_status(auto_award boolean, kiosk_confirmation boolean, by_kiosk boolean,
                                   flagged boolean, points integer)
RETURNS varchar LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN flagged OR NOT auto_award THEN 'pending'
              WHEN kiosk_confirmation AND by_kiosk THEN 'unconfirmed'
              WHEN points = 0 THEN 'zero'
              ELSE 'awarded' END
$$;
COMMENT ON FUNCTION event_award_status(boolean, boolean, boolean, boolean, integer) IS
  'What happens to a finished stay''s points: awarded now, waiting (pending approval, unconfirmed kiosk time), or none due.';
"""
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION event_award_status(boolean, boolean, boolean, boolean, integer); "
        "DROP FUNCTION event_points_due(bigint, bigint, bigint, bigint, bigint); "
        "DROP FUNCTION event_credited_minutes(timestamptz, timestamptz, timestamptz); "
        "DROP FUNCTION event_stay_counts(timestamptz, varchar)"
    )
