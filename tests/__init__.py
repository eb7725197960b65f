"""The tests. Bytecode is kept for them: they start many Python processes (the test workers,
live servers and their workers, the CLI), and where PYTHONDONTWRITEBYTECODE is set (as in many
containers) each one compiled every module it imports from source again: 2.9 CPU-seconds to
import the app, 1.2 from the cached bytecode (__pycache__, ignored by git). Set here, before
tests/conftest.py imports anything."""

import os
import sys

sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
