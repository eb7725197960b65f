"""Password hashing: production keeps argon2id's strong parameters; the tests' cheap profile is
chosen only by JINLIN_ARGON2=fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.core.security import hash_password, password_hasher, verify_password

ROOT = Path(__file__).resolve().parents[2]


def _hash_in_a_fresh_process(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "JINLIN_ARGON2"}
    if env_value is not None:
        env["JINLIN_ARGON2"] = env_value
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from app.core.security import hash_password; print(hash_password('pw-123456'))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_production_hashes_with_the_strong_argon2id_parameters():
    # RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes.
    assert _hash_in_a_fresh_process(None).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert _hash_in_a_fresh_process("strong").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_the_tests_use_the_cheap_profile_and_it_still_verifies_under_the_strong_one():
    assert os.environ["JINLIN_ARGON2"] == "fast"
    cheap = hash_password("pw-123456")
    assert cheap.startswith("$argon2id$v=19$m=64,t=1,p=1$")
    assert verify_password(cheap, "pw-123456")[0]
    strong = password_hasher("strong")
    assert strong.verify(cheap, "pw-123456") and strong.check_needs_rehash(cheap)


def test_an_unknown_profile_fails_at_start():
    env = {**os.environ, "JINLIN_ARGON2": "weak"}
    result = subprocess.run(
        [sys.executable, "-c", "import app.core.security"], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert result.returncode != 0 and b"JINLIN_ARGON2 must be one of strong, fast" in result.stderr
