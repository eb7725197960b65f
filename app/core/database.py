"""Database plumbing: the declarative base, the embedded server and engine URLs."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


log = logging.getLogger("jinlin.database")


class EmbeddedPostgres:
    """The embedded PostgreSQL in ``data_dir/pg`` (pgserver), shared by the processes using it.

    Each process that starts or joins the server (`jinlin serve`'s master, `jinlin admin create`,
    `jinlin worker`...) is written down as a holder: its pid and its start time, so a pid the
    system has given to another process since does not count. A holder that is gone without
    releasing (killed) is dropped the next time the list is read. The last holder to release
    stops the server; `serve`'s worker processes use the master's server without holding it.
    pgserver's own bookkeeping is not used: it keeps the pid of a killed process forever, and
    the server then outlived every later clean stop.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = (data_dir / "pg").resolve()
        self._holders = data_dir / "pg-holders.json"
        self._server: Any = None
        self._holder: int | None = None  # this process's pid while it holds the server
        self._mutex = threading.Lock()

    # -------------------------------------------------------------- bookkeeping

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, float]]:
        """The holders, read under an exclusive lock across processes (and threads: each call
        opens the file anew, and flock locks per open file); written back on leaving."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._mutex, open(self._holders, "a+", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            file.seek(0)
            try:
                holders = {str(k): float(v) for k, v in json.loads(file.read() or "{}").items()}
            except (ValueError, AttributeError):
                holders = {}
            holders = {pid: started for pid, started in holders.items() if _alive(int(pid), started)}
            yield holders
            file.seek(0)
            file.truncate()
            file.write(json.dumps(holders))
            file.flush()

    def start(self) -> str:
        """Start the server (or join the running one), hold it, and return its asyncpg URL."""
        with self._locked() as holders:
            self._ensure_server()
            holders[str(os.getpid())] = _started(os.getpid())
            if self._holder is None:
                atexit.register(self.release)
            self._holder = os.getpid()
        exists = self._server.psql("SELECT 1 FROM pg_database WHERE datname = 'jinlin';")
        if "1 row" not in exists:
            self._server.psql("CREATE DATABASE jinlin;")
        return self.url()

    def release(self) -> None:
        """Stop holding the server; stop it if no live process holds it any more."""
        if not self._holding():
            return  # never held, released already, or a child forked from the holder
        with self._locked() as holders:
            self._holder = None
            holders.pop(str(os.getpid()), None)
            if not holders and self.running():
                self._stop()

    def _holding(self) -> bool:
        return self._holder == os.getpid()

    # -------------------------------------------------------------- the server

    def url(self) -> str:
        socket_dir = self._server.get_postmaster_info().socket_dir or self.pgdata
        return f"postgresql+asyncpg://postgres@/jinlin?host={socket_dir}"

    def postmaster_pid(self) -> int | None:
        """The running postmaster's pid, read from its lock file (None when it is not running)."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _is_postmaster(pid, self.pgdata) else None

    def running(self) -> bool:
        return self.postmaster_pid() is not None

    def restart_if_stopped(self) -> bool:
        """Start the server again if it stopped while this process holds it; True if it did."""
        if self.running():
            return False
        with self._locked():
            if not self._holding() or self.running():
                return False  # released meanwhile (a clean stop), or started by another holder
            log.warning("embedded PostgreSQL in %s is not running: starting it again", self.pgdata)
            self._ensure_server(restart=True)
        log.warning("embedded PostgreSQL is running again")
        return True

    def _ensure_server(self, restart: bool = False) -> None:
        with warnings.catch_warnings():
            # platformdirs warns about a missing XDG_RUNTIME_DIR on servers; harmless here.
            warnings.simplefilter("ignore")
            import pgserver  # imported lazily: not needed with an external server

        if self._server is None:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            # cleanup_mode=None: stopping is decided here, by the holders, not by pgserver.
            self._server = pgserver.get_server(self.pgdata, cleanup_mode=None)
        elif restart:
            with self._server._lock:
                self._server.ensure_postgres_running()

    def allow_connections(self, count: int) -> None:
        """Raise max_connections to `count` (ALTER SYSTEM: kept for the next starts too). It takes
        a restart, about a second, made at once when no other process holds the server; else the
        server takes it at its next start."""
        self._server.psql(f"ALTER SYSTEM SET max_connections = {int(count)};")
        with self._locked() as holders:
            if set(holders) != {str(os.getpid())}:
                log.warning("max_connections of the embedded PostgreSQL is %d from its next start", count)
                return
            log.warning("embedded PostgreSQL: restarting it with max_connections %d", count)
            self._stop()
            with self._server._lock:
                self._server.ensure_postgres_running()
        if os.environ.get("JINLIN_EMBEDDED_URL"):
            os.environ["JINLIN_EMBEDDED_URL"] = self.url()

    def _stop(self) -> None:
        import pgserver  # lazily, as in _ensure_server: only the embedded server needs it

        try:
            pgserver.pg_ctl(  # type: ignore[attr-defined]  # made at import from pginstall/bin
                ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user, timeout=60
            )
        except subprocess.CalledProcessError:
            pass  # already stopped
        except subprocess.TimeoutExpired:
            pid = self.postmaster_pid()
            if pid is not None:
                os.kill(pid, signal.SIGQUIT)  # immediate shutdown

    # -------------------------------------------------------------- supervision

    def supervise(self, interval: float = 1.0) -> threading.Thread:
        """A daemon thread that starts the server again whenever it stops while this process
        holds it (PostgreSQL killed or crashed). Failed starts are retried: after a kill -9 the
        old server's children hold its shared memory for a moment."""

        def watch() -> None:
            while self._holding():
                time.sleep(interval)
                try:
                    self.restart_if_stopped()
                except Exception as exc:  # noqa: BLE001 - keep watching; the next round retries
                    log.warning("embedded PostgreSQL did not start (%s); retrying", exc)

        thread = threading.Thread(target=watch, name="embedded-postgres-supervisor", daemon=True)
        thread.start()
        return thread


def _started(pid: int) -> float:
    import psutil  # a dependency of pgserver, needed only with the embedded server

    return float(psutil.Process(pid).create_time())


def _alive(pid: int, started: float) -> bool:
    """The process that registered is still running (not another one given the same pid)."""
    import psutil  # lazily, as in _started: only the embedded server needs it

    try:
        return abs(float(psutil.Process(pid).create_time()) - started) < 0.01
    except psutil.Error:
        return False


def _is_postmaster(pid: int, pgdata: Path) -> bool:
    import psutil  # lazily, as in _started: only the embedded server needs it

    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and str(pgdata) in process.cmdline()
    except psutil.Error:
        return False


_embedded: EmbeddedPostgres | None = None


def embedded() -> EmbeddedPostgres | None:
    """The embedded server this process started or joined, if any."""
    return _embedded


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL in ``data_dir/pg`` and return its asyncpg URL;
    `jinlin admin create` may run beside `jinlin serve` on the same directory."""
    global _embedded
    if _embedded is None or _embedded.data_dir != data_dir:
        _embedded = EmbeddedPostgres(data_dir)
    return _embedded.start()


# Every SQLAlchemy engine (the app's, the jobs', the command line's) takes these. A connection
# the pool hands out is checked first (one round trip): after PostgreSQL restarts, every pooled
# connection is dead, and without the check each one failed a request before the pool noticed.
# Connections are renewed every half hour (a failover or a server restart is not the only way
# to be left on a stale one), and a server that does not answer fails a connect in 10 s, not
# asyncpg's 60.
ENGINE_OPTIONS: dict[str, Any] = {
    "pool_pre_ping": True,
    "pool_recycle": 1800,
    "connect_args": {"timeout": 10},
}

# The pages' SQLAlchemy pool of a worker process (`app.asgi`), named "jinlin pages" in
# pg_stat_activity.
PAGE_POOL: dict[str, Any] = {
    "pool_size": 10,
    "max_overflow": 5,
    "connect_args": {
        **ENGINE_OPTIONS["connect_args"],
        "server_settings": {"application_name": "jinlin pages"},
    },
}


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    """The URL to use: the configured one, or the embedded server's (started on demand)."""
    if database_url:
        return normalise_url(database_url)
    inherited = os.environ.get("JINLIN_EMBEDDED_URL")
    if inherited:
        return inherited
    url = start_embedded(data_dir)
    # Worker processes and subprocesses reuse the server this process started.
    os.environ["JINLIN_EMBEDDED_URL"] = url
    return url


def normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    return url


def sync_url(url: str) -> str:
    """The psycopg (sync) form of an asyncpg URL, used by Alembic."""
    return url.replace("postgresql+asyncpg://", "postgresql+psycopg://", 1)


def libpq_url(url: str) -> str:
    """Plain libpq URL (for psql, pgbench and asyncpg.connect)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1).replace(
        "postgresql+psycopg://", "postgresql://", 1
    )
