"""One job worker per `jinlin serve`, not one per worker process (app.core.serving.take_turn), and
a job woken where its work is written (app.core.jobs.wake): one waiting run, with the transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import domains
from app.core import jobs, serving
from app.imports import services as imports
from app.payments import stripe_events as payments
from app.reports import exporting


def test_one_process_of_a_serve_has_the_job_worker_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first process of a serve to ask takes the turn and keeps it while it lives; the others
    are refused until it has ended, however it ended (here SIGKILL), and then one of them gets it.
    Another serve (another master) has a turn of its own."""
    master = str(2**22 + os.getpid())  # beyond the default pid_max: no real serve's master
    monkeypatch.setenv(serving.MASTER_PID, master)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from app.core import serving; turn = serving.take_turn('jobs');"
            " print(turn is not None, flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        assert serving.take_turn("jobs") is None, "a second process of the same serve is refused"
        monkeypatch.setenv(serving.MASTER_PID, str(int(master) + 1))
        other = serving.take_turn("jobs")
        assert other is not None, "another serve has its own turn"
        other.close()
        monkeypatch.setenv(serving.MASTER_PID, master)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    deadline = time.monotonic() + 5
    while (turn := serving.take_turn("jobs")) is None:
        assert time.monotonic() < deadline, "the turn is free once its holder has ended"
        time.sleep(0.05)
    assert serving.take_turn("jobs") is None, "and kept by its new holder"
    turn.close()


def test_the_woken_jobs_are_registered() -> None:
    domains.load_jobs()
    assert {imports.JOB, exporting.JOB, payments.HANDLE_EVENTS} <= set(jobs.registered())


WAITING = (
    "SELECT task_name, queue_name, args FROM procrastinate_jobs"
    " WHERE queueing_lock = :lock AND status = 'todo'"
)


async def test_a_wake_is_one_waiting_run_of_the_job_in_the_transaction(engine: Any) -> None:
    """Woken twice, a job waits once; the run is in the waker's transaction (rolled back here, so
    no served app's job worker on this database runs it). The table is locked against the job
    workers meanwhile, so none takes a waiting run between two reads."""
    lock = f"wake:{exporting.JOB}"
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(text("LOCK TABLE procrastinate_jobs IN SHARE ROW EXCLUSIVE MODE"))
        before = (await s.execute(text(WAITING), {"lock": lock})).all()
        await jobs.wake(s, exporting.JOB)
        await jobs.wake(s, exporting.JOB)
        after = (await s.execute(text(WAITING), {"lock": lock})).all()
        assert len(after) == 1, after
        assert tuple(after[0]) == (exporting.JOB, "periodic", {})
        if not before:
            # Seen only by this transaction until it commits.
            async with engine.connect() as other:
                assert (await other.execute(text(WAITING), {"lock": lock})).all() == []
        await s.rollback()


DEFERRED_BY_PROCRASTINATE = (
    # What procrastinate's own `Task.defer` sends for a task of the periodic queue with no lock,
    # priority or schedule of its own (procrastinate/sql/queries.sql, `defer_jobs`).
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY["
    "ROW('periodic', :name, 0, NULL, :lock, '{}'::jsonb, NULL)::procrastinate_job_to_defer_v1]))"
)
JOB_ROW = "SELECT to_jsonb(j) - 'id' - 'queueing_lock' FROM procrastinate_jobs j WHERE id = :id"
JOB_EVENTS = "SELECT array_agg(type::text ORDER BY id) FROM procrastinate_events WHERE job_id = :id"


async def test_a_woken_row_is_the_row_procrastinates_own_defer_makes(engine: Any) -> None:
    """`wake` writes procrastinate's table by hand (why: app.core.jobs._WAKE). This pins what the
    insert relies on: every other column of the row (status, priority, lock, schedule, attempts,
    abort flag, worker) and its events come out as procrastinate's own deferral makes them, and
    the partial unique index its ON CONFLICT names is there. A procrastinate upgrade that adds or
    changes a column fails here before a woken job goes unrun."""
    lock = f"wake:{exporting.JOB}"
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(text("LOCK TABLE procrastinate_jobs IN SHARE ROW EXCLUSIVE MODE"))
        await s.execute(text("DELETE FROM procrastinate_jobs WHERE queueing_lock = :lock"), {"lock": lock})
        await jobs.wake(s, exporting.JOB)
        woken = (
            await s.execute(
                text("SELECT id FROM procrastinate_jobs WHERE queueing_lock = :lock"), {"lock": lock}
            )
        ).scalar_one()
        theirs = (
            await s.execute(
                text(DEFERRED_BY_PROCRASTINATE), {"name": exporting.JOB, "lock": "procrastinate's"}
            )
        ).scalar_one()
        ours_row = (await s.execute(text(JOB_ROW), {"id": woken})).scalar_one()
        their_row = (await s.execute(text(JOB_ROW), {"id": theirs})).scalar_one()
        assert ours_row == their_row, (ours_row, their_row)
        assert ours_row["status"] == "todo" and ours_row["task_name"] == exporting.JOB
        ours_events = (await s.execute(text(JOB_EVENTS), {"id": woken})).scalar_one()
        assert ours_events == (await s.execute(text(JOB_EVENTS), {"id": theirs})).scalar_one() == ["deferred"]
        index = (
            await s.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                {"name": "procrastinate_jobs_queueing_lock_idx_v1"},
            )
        ).scalar_one()
        assert "UNIQUE" in index and "(queueing_lock)" in index and "'todo'" in index, index
        await s.rollback()
