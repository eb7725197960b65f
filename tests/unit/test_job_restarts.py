"""How soon a job worker that ended is started again (app.core.jobs.run_worker_for_good)."""

from __future__ import annotations

from app.core import jobs


def test_a_job_worker_starts_again_at_once_then_ever_more_slowly_while_it_keeps_ending_soon() -> None:
    # PostgreSQL lost for a moment: the jobs go on a second later; gone for a while: a restart
    # (and a line in the log) every half a minute.
    assert [jobs.restart_delay(quick) for quick in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_a_job_worker_that_ran_a_while_starts_again_at_once() -> None:
    assert jobs.restart_delay(0) == jobs.RESTART_DELAY == 1
