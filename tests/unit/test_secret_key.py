"""API.md's JINLIN_SECRET_KEY: required with DATABASE_URL; with the embedded database generated
once and kept in the data directory, shared by every process using it, even by processes that
start at the same moment on a new data directory."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from app.core.settings import SettingsError, load_settings


def test_a_key_is_required_with_a_database_url(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql+asyncpg://jinlin@db.example/jinlin", "JINLIN_DATA_DIR": str(tmp_path)}
    with pytest.raises(SettingsError, match="JINLIN_SECRET_KEY"):
        load_settings(env)
    assert not (tmp_path / "secret_key").exists()
    assert load_settings({**env, "JINLIN_SECRET_KEY": "k" * 40}).secret_key == "k" * 40


def test_the_embedded_key_is_made_once_and_kept_in_the_data_directory(tmp_path: Path) -> None:
    first = load_settings({"JINLIN_DATA_DIR": str(tmp_path / "one")})
    kept = tmp_path / "one" / "secret_key"
    assert len(first.secret_key) >= 32 and kept.read_text().strip() == first.secret_key
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert load_settings({"JINLIN_DATA_DIR": str(tmp_path / "one")}).secret_key == first.secret_key
    assert load_settings({"JINLIN_DATA_DIR": str(tmp_path / "two")}).secret_key != first.secret_key
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == ["secret_key"]


def test_processes_starting_at_once_on_a_new_data_directory_share_one_key(tmp_path: Path) -> None:
    """Each starter wrote its key to one temporary file of the same name: one wrote into the file
    another had just linked in place, another found it gone (FileNotFoundError), and starters of
    the same moment went on with different keys, so a session or code one signed the other
    refused."""
    for n in range(40):
        data_dir = tmp_path / f"data-{n}"
        start = threading.Barrier(8)
        seen: list[str] = []

        def starts(
            data_dir: Path = data_dir, start: threading.Barrier = start, seen: list[str] = seen
        ) -> None:
            start.wait()
            try:
                seen.append(load_settings({"JINLIN_DATA_DIR": str(data_dir)}).secret_key)
            except Exception as exc:  # noqa: BLE001 - a starter's failure is what the test looks for
                seen.append(repr(exc))

        starters = [threading.Thread(target=starts) for _ in range(8)]
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join()
        kept = (data_dir / "secret_key").read_text().strip()
        assert set(seen) == {kept}, (n, seen)
        assert sorted(p.name for p in data_dir.iterdir()) == ["secret_key"]
