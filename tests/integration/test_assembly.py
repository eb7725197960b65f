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
