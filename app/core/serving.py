"""Process plumbing of `jinlin serve`: its workers die with their master, and a port already
served (by another server, or by workers a killed master left behind) is refused at start.

granian's master forks the worker processes; each opens its own listening socket with
SO_REUSEPORT, so the kernel spreads connections among them. The same option lets any later
process of the same user bind the same port beside them: workers whose master was killed kept
answering with nobody to restart or stop them, and a new server shared the port with them,
half the requests going to the old code."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import logging
import os
import signal
import socket
import sys
import threading
import time

log = logging.getLogger("jinlin.serving")

# The master's pid, as the workers must see it; they read it from the environment, so it
# survives both ways of starting them (fork, spawn).
MASTER_PID = "JINLIN_SERVE_PID"
PR_SET_PDEATHSIG = 1
# How often a worker's watchdog looks for its master.
WATCH_INTERVAL = 1.0


class PortInUse(Exception):
    pass


def check_port_free(host: str, port: int) -> None:
    """Refuse a port something already listens on.

    The probe sets SO_REUSEADDR (a previous run's connections in TIME_WAIT do not count) but not
    SO_REUSEPORT, so its bind fails while any socket listens on the port, SO_REUSEPORT or not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise PortInUse(_in_use_message(host, port)) from exc


def _in_use_message(host: str, port: int) -> str:
    message = f"{host}:{port} is already in use"
    listeners = _listeners(port)
    if listeners:
        message += " by " + ", ".join(f"pid {pid} ({name})" for pid, name in listeners)
    return message + "; stop it first, or choose another --port"


def _listeners(port: int) -> list[tuple[int, str]]:
    """The processes listening on `port`, where the system lets us see them."""
    try:
        import psutil  # a dependency of pgserver; only for a clearer message
    except ImportError:  # pragma: no cover
        return []
    found: set[tuple[int, str]] = set()
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                with contextlib.suppress(psutil.Error):
                    found.add((conn.pid, " ".join(psutil.Process(conn.pid).cmdline())[:80]))
    except psutil.Error:
        return []
    return sorted(found)


def mark_master() -> None:
    """Called by the master before it starts its workers."""
    os.environ[MASTER_PID] = str(os.getpid())


def exit_with_master() -> None:
    """Called by each worker as it starts: die when the master is gone.

    Linux sends the parent-death signal (prctl PR_SET_PDEATHSIG) when the thread that forked
    this process exits: granian forks and re-forks its workers from the master's main thread,
    which lives as long as the master. A watchdog thread polling getppid() covers the rest
    (other systems, a master that died before the signal was asked for).

    The signal is SIGKILL, not SIGTERM: a granian worker still starting its app when SIGTERM
    comes hangs for good (its signal handler blocks in granian's code, holding the GIL), so
    nothing, not even a watchdog thread, could end it. Without a master nobody would wait for a
    graceful stop anyway; a request cut short rolls its transaction back."""
    master = int(os.environ.get(MASTER_PID, "0") or 0)
    if not master:
        return
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %s", ctypes.get_errno())
    threading.Thread(target=_watch_master, args=(master,), name="master-watchdog", daemon=True).start()


def _watch_master(master: int) -> None:
    while os.getppid() == master:
        time.sleep(WATCH_INTERVAL)
    log.warning("the master process %s is gone: worker %s exits", master, os.getpid())
    os.kill(os.getpid(), signal.SIGKILL)


def take_turn(what: str) -> socket.socket | None:
    """The turn of one of a serve's worker processes to do `what` (its job worker): the first
    to ask gets it and keeps it while it keeps the socket returned; the others get None and may
    ask again, and one of them gets it once that process has ended (a crashed worker that
    granian respawns). The turn is a Linux abstract socket named after the master, which the
    kernel frees with the process holding it: no file is left behind. A process that is no
    serve's worker (another ASGI server, a test's app) always gets its own turn."""
    owner = int(os.environ.get(MASTER_PID, "0") or 0) or os.getpid()
    turn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        turn.bind(f"\0jinlin-{what}-{owner}")
    except OSError as exc:
        turn.close()
        if exc.errno != errno.EADDRINUSE:
            raise
        return None
    return turn
