"""The embedded PostgreSQL of a test's own data directory: is it running, and stopping it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
from pgserver._commands import POSTGRES_BIN_PATH


def postmaster(data_dir: Path) -> psutil.Process | None:
    """The postmaster running on ``data_dir/pg``, or None: postmaster.pid is missing, or names a
    process that has gone (a zombie counts as gone) or another program (its pid given again)."""
    pgdata = (data_dir / "pg").resolve()
    try:
        process = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
        if process.status() != psutil.STATUS_ZOMBIE and str(pgdata) in process.cmdline():
            return process
    except (OSError, ValueError, IndexError, psutil.Error):
        pass
    return None


def stop_postgres(data_dir: Path) -> None:
    """Stop the PostgreSQL running on ``data_dir/pg``, if one is; never start one.

    Not through pgserver (``get_server(pgdata).cleanup()``): get_server starts a server it finds
    stopped, so a server that stopped between the check and the call ran again (its log showed a
    start 0.1 s after a clean shutdown); and cleanup stops a server only when pgserver's list of
    the processes using it (pg/.handle_pids.json) names no other, but a process killed while it
    used the server stays on that list for good, and the server outlived the test."""
    running = postmaster(data_dir)
    if running is None:
        return
    pgdata = data_dir / "pg"
    # pg_ctl refuses to run as root: it runs as the data directory's owner, as the server does.
    user = pgdata.owner() if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "-t", "30", "stop"],
            user=user,
            check=True,
            capture_output=True,
            timeout=60,
        )
    if postmaster(data_dir) is not None:  # not stopped in time: an immediate shutdown
        with contextlib.suppress(psutil.Error):
            running.send_signal(signal.SIGQUIT)
        deadline = time.monotonic() + 20
        while postmaster(data_dir) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
