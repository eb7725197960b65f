"""What an operator running the app reads: the libraries that log each routine step at INFO (the
job worker every run of a job, every call to Stripe) log only their warnings and errors, and the
app's own loggers keep INFO."""

from __future__ import annotations

import logging

from app.asgi import QUIET_LOGGERS


async def test_routine_library_steps_stay_out_of_the_log(client):
    assert set(QUIET_LOGGERS) == {"procrastinate", "httpx", "stripe"}
    for name in ("procrastinate", "procrastinate.worker", "httpx", "stripe"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
    for name in ("jinlin.jobs", "jinlin.payments", "litestar"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.INFO, name
