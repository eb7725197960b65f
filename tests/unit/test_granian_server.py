"""`jinlin serve` stops on its first SIGTERM or SIGINT, and one arriving while the first one's
handler holds the stopping event's lock does not wait for that lock: a nested signal handler
runs on the same thread, and there it waited for itself, so serve never ended."""

from __future__ import annotations

import threading

from granian.constants import Interfaces

from app.core.granian_server import Server


def test_a_second_signal_during_the_first_ones_handler_returns_at_once() -> None:
    server = Server("app.asgi:create_app", interface=Interfaces.ASGI, factory=True)
    stopping = server.main_loop_interrupt
    server.signal_handler_interrupt()  # the first signal: the serve loop is told to stop
    assert server.interrupt_signal and stopping.is_set()

    # The lock the first handler holds inside Event.set (the stdlib's Condition of the event),
    # held here while the second signal's handler runs.
    second = threading.Thread(target=server.signal_handler_interrupt, daemon=True)
    with stopping._cond:  # noqa: SLF001 - the lock the nested handler waited on
        second.start()
        second.join(2)
        waited = second.is_alive()
    second.join(5)
    assert not waited, "the second signal's handler waited for the first one's lock"
    assert stopping.is_set()
