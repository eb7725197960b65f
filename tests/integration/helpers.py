"""The embedded PostgreSQL of a test's own data directory: is it running, and stopping it; and
the directories of the servers the tests start themselves, which name the test process owning
them, so that the servers of a run killed before its teardown are stopped by the next run."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
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


# ---------------------------------------------------------------- servers whose owner is gone

# Beside the server's pg/ in a directory of its own: the test process that owns the server.
OWNER = "owner.json"


def owned_directory(prefix: str, root: Path | None = None) -> Path:
    """A new directory for an embedded server of this process (the server in its pg/), reachable
    by the server's own system user, with this process named its owner.

    A run killed before its teardown (SIGKILL, an xdist worker killed, a SIGTERM that pytest does
    not turn into a teardown) left its server running for good, with its shared memory and its
    connections; the next run's start stops it (`stop_orphans`)."""
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    base.chmod(0o755)
    me = psutil.Process()
    written = base / (OWNER + ".new")
    written.write_text(json.dumps({"pid": me.pid, "started": me.create_time()}))
    written.rename(base / OWNER)  # whole or not at all: a reader never sees half of it
    return base


def _owner_gone(base: Path) -> bool:
    try:
        owner = json.loads((base / OWNER).read_text())
        process = psutil.Process(int(owner["pid"]))
        # The same pid given to another process since is not the owner.
        return abs(process.create_time() - float(owner["started"])) > 0.01 or (
            process.status() == psutil.STATUS_ZOMBIE
        )
    except psutil.NoSuchProcess:
        return True
    except (OSError, ValueError, KeyError, TypeError, psutil.Error):
        return False  # unreadable, or not ours to judge: left alone


def stop_orphans(root: Path | None = None) -> list[Path]:
    """Stops the server of each owned directory under `root` (the temporary directory) whose
    owner has gone, and removes the directory. Returns the directories removed."""
    removed = []
    for owner in sorted(Path(root or tempfile.gettempdir()).glob("jinlin-*/" + OWNER)):
        base = owner.parent
        if not _owner_gone(base):
            continue
        stop_postgres(base)
        if postmaster(base) is None:
            shutil.rmtree(base, ignore_errors=True)
            removed.append(base)
    return removed
