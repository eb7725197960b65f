"""The assembly hands core what it may not import: every domain's jobs and commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SECRET


def test_the_worker_runs_every_domains_jobs(database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JINLIN_SECRET_KEY": SECRET,
        "JINLIN_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "worker", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    listed = done.stdout.split("periodic jobs:", 1)[1].split()
    assert "ledger.void_expired_holds" in [name.rstrip(",") for name in listed], done.stdout


def test_each_domains_commands_are_on_jinlin() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "ledger", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "verify" in done.stdout


_MADE_APP = """
import sys
from app.asgi import create_app
from app.core.settings import Settings
from app.ledger import words

app = create_app(Settings(database_url=sys.argv[1], data_dir=sys.argv[2], secret_key=sys.argv[3],
                        secure_cookies=False, run_jobs_in_process=False))
print(" ".join(sorted(words._RENDERERS)))
print(" ".join(sorted(app.state)))
"""


def test_the_app_has_every_domains_words_and_memos_from_the_assembly(
    database_url: str, tmp_path: Path
) -> None:
    """A fresh process makes the app: the words of each domain's transfer kinds and each
    domain's memory of hot rows come through app.domains, which asgi asks, not by name."""
    done = subprocess.run(
        [sys.executable, "-c", _MADE_APP, database_url, str(tmp_path), SECRET],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    kinds, state = (line.split() for line in done.stdout.splitlines()[-2:])
    assert {"event", "hours", "store_order", "expiry"} <= set(kinds)
    assert {"event_rows", "order_facts"} <= set(state)
