"""granian's server, as `jinlin serve` runs it.

granian's handler of SIGTERM and SIGINT sets a `threading.Event`, whose lock is not re-entrant: a
second signal arriving while the first one's handler held that lock ran the handler again on the
same thread, which then waited for itself, and `jinlin serve` never ended (seen twice, when a
supervisor's signal and the one `uv run` forwards came together). Here only the first signal
sets it; the ones after it find the server already stopping.
"""

from __future__ import annotations

from typing import Any

from granian.server.mp import MPServer


class Server(MPServer):
    """granian's server of worker processes (`granian.Granian` where Python has its GIL)."""

    def signal_handler_interrupt(self, *args: Any, **kwargs: Any) -> None:
        if self.interrupt_signal:
            return
        super().signal_handler_interrupt(*args, **kwargs)
