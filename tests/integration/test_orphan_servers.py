"""The embedded servers of a test run killed before its teardown are stopped by the next run: each
server's directory names the test process owning it, and a run's start stops the servers whose
owner has gone (tests.integration.helpers.stop_orphans)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import ROOT
from tests.integration.helpers import OWNER, owned_directory, postmaster, stop_orphans, stop_postgres


@pytest.fixture
def root() -> Iterator[Path]:
    """A temporary directory of the test's own to look for orphans in (the servers' user must
    reach it), so that no other run's servers are judged."""
    path = Path(tempfile.mkdtemp(prefix="jinlin-orphans-"))
    path.chmod(0o755)
    yield path
    for base in path.iterdir():
        stop_postgres(base)
    shutil.rmtree(path, ignore_errors=True)


def test_a_server_whose_owner_was_killed_is_stopped_and_its_directory_removed(root: Path):
    # A test process that started its server and was killed before its teardown (SIGKILL).
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys, pgserver; from pathlib import Path;"
            " from tests.integration.helpers import owned_directory;"
            " base = owned_directory('jinlin-test-', Path(sys.argv[1]));"
            " pgserver.get_server(base / 'pg', cleanup_mode='delete'); print(base, flush=True);"
            " os.kill(os.getpid(), signal.SIGKILL)",
            str(root),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    killed = Path(started.stdout.strip())
    assert killed.parent == root, started.stderr[-3000:]
    assert postmaster(killed) is not None, "the killed owner left its server running"
    # The same pid given to another process since (this one, started later) is not the owner.
    reused = owned_directory("jinlin-test-", root)
    (reused / OWNER).write_text(json.dumps({"pid": os.getpid(), "started": 1.0}))
    # A directory whose owner runs is left alone, as is one that names no owner.
    alive = owned_directory("jinlin-test-", root)
    unowned = Path(tempfile.mkdtemp(prefix="jinlin-test-", dir=root))

    assert stop_orphans(root) == sorted([killed, reused])

    assert postmaster(killed) is None
    assert not killed.exists() and not reused.exists()
    assert alive.exists() and unowned.exists()
    assert stop_orphans(root) == []


def test_the_sessions_server_names_this_process_its_owner(database_url: str):
    host = parse_qs(urlparse(database_url).query).get("host")
    if os.environ.get("TEST_DATABASE_URL") or not host:
        pytest.skip("TEST_DATABASE_URL names a server the tests did not start")
    owner = json.loads((Path(host[0]).parent / OWNER).read_text())
    assert owner["pid"] == os.getpid()
