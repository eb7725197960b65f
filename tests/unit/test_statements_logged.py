"""tests.statements.logged returns once the app's loop has handed asyncpg's query loggers every
record of what it ran, however long that loop is busy: the test client runs the app on a loop in
a thread of its own, and a page's COMMIT reached the list after its answer."""

from __future__ import annotations

import asyncio
import threading
import time

from tests.statements import Sent, logged


async def test_logged_waits_for_the_commit_of_an_app_loop_busy_for_longer_than_a_second() -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    sent = Sent(["BEGIN;", "SELECT 1"])
    sent.loop = loop
    answered = threading.Event()

    def commit_returns() -> None:
        # As asyncpg does when the COMMIT returns, before the page answers: the record is handed
        # to the loggers later, and another step (a collection, another task) comes first.
        loop.call_soon(time.sleep, 1.5)
        loop.call_soon(sent.append, "COMMIT;")
        answered.set()

    loop.call_soon_threadsafe(commit_returns)
    try:
        assert await asyncio.to_thread(answered.wait, 5)
        await logged(sent)
        assert sent == ["BEGIN;", "SELECT 1", "COMMIT;"]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
