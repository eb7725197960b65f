"""CPU seconds per test, for finding what makes the suite slow (JINLIN_CPU_RECORD=file.jsonl).

Each test (setup, call and teardown, so a fixture's start counts towards the first test that needs
it) gets a line: the CPU of the pytest process and every process below it (live servers,
Chromium, CLI subprocesses; what finished and was waited for too), and separately the CPU of the
worker's PostgreSQL (its postmaster and backends, found through the test database's name).
Wall time is given but means little on a shared machine; compare CPU. The pytest process adopts
the processes orphaned below it (PR_SET_CHILD_SUBREAPER), so that none of their CPU is lost.

    JINLIN_CPU_RECORD=var/cpu.jsonl uv run --frozen pytest -n 2 --dist loadfile
    uv run --frozen python -m tests.cpu_record var/cpu.jsonl
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, CPU ticks of itself and its waited-for children, cmdline)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2 :].split()
        ticks = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
        out[int(entry.name)] = (int(rest[1]), ticks, cmdline)
    return out


def _tree(procs: dict[int, tuple[int, int, str]], root: int) -> dict[int, int]:
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (parent, _ticks, _cmd) in procs.items():
        children[parent].append(pid)
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            out[pid] = procs[pid][1]
            todo.extend(children[pid])
    return out


_POSTMASTER: list[int] = []


def _postmaster(procs: dict[int, tuple[int, int, str]]) -> int | None:
    """The worker's PostgreSQL, found once through a backend on the test database (it stays
    known when it stops at the end, a zombie with no command line)."""
    if _POSTMASTER and _POSTMASTER[0] in procs:
        return _POSTMASTER[0]
    name = f"jinlin_test_{os.getpid()}"
    for _pid, (parent, _ticks, cmd) in procs.items():
        if cmd.startswith("postgres:") and f" {name} " in cmd:
            _POSTMASTER[:] = [parent]
            return parent
    return None


def _sample() -> tuple[dict[int, int], dict[int, int]]:
    procs = _processes()
    pg = _postmaster(procs)
    return _tree(procs, os.getpid()), (_tree(procs, pg) if pg else {})


def _spent(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds between two samples of a tree. A process that ended since was waited for by
    its parent, whose children's time now holds all of its CPU: so the sums are compared, not
    each process's (what a daemon leaves behind unwaited-for is lost, and rare)."""
    return (sum(after.values()) - sum(before.values())) / TICK


PATH = os.environ.get("JINLIN_CPU_RECORD")
if PATH:
    # Processes whose parent ends first (Chromium's renderers when it closes, a server's workers)
    # would be adopted by init and their CPU lost: this process adopts them instead and never
    # waits for them, so every process below stays in the tree, as a zombie once it ends.
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if not PATH:
        yield
        return
    tree0, pg0 = _sample()
    start = time.monotonic()
    yield
    wall = time.monotonic() - start
    tree1, pg1 = _sample()
    pg = _spent(pg0, pg1) if pg1 else 0.0
    line = {
        "test": item.nodeid,
        "file": item.nodeid.split("::", 1)[0],
        # The worker's PostgreSQL was adopted too, if it was started here: counted apart.
        "cpu": round(_spent(tree0, tree1) - (pg if set(pg1) <= set(tree1) else 0.0), 2),
        "pg": round(pg, 2),
        "wall": round(wall, 2),
        "end": round(time.time(), 2),
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
    }
    with open(PATH, "a") as out:
        out.write(json.dumps(line) + "\n")


def summary(path: str, top: int = 15) -> str:
    files: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    for raw in Path(path).read_text().splitlines():
        line = json.loads(raw)
        row = files[line["file"]]
        row[0] += line["cpu"]
        row[1] += line["pg"] or 0.0
        row[2] += line["wall"]
        row[3] += 1
    total = [sum(r[i] for r in files.values()) for i in range(4)]
    lines = [f"{'file':60} {'cpu s':>8} {'pg s':>7} {'wall s':>7} {'tests':>5}"]
    for name, row in sorted(files.items(), key=lambda kv: -kv[1][0])[:top]:
        lines.append(f"{name:60} {row[0]:8.1f} {row[1]:7.1f} {row[2]:7.1f} {row[3]:5d}")
    name = f"all {len(files)} files"
    lines.append(f"{name:60} {total[0]:8.1f} {total[1]:7.1f} {total[2]:7.1f} {total[3]:5.0f}")
    # Each worker's first start and last end: the one that ends first idles until the other does.
    spans: dict[str, list[float]] = {}
    for raw in Path(path).read_text().splitlines():
        line = json.loads(raw)
        if "end" in line:
            span = spans.setdefault(line["worker"], [line["end"] - line["wall"], line["end"]])
            span[0], span[1] = min(span[0], line["end"] - line["wall"]), max(span[1], line["end"])
    if spans:
        last = max(end for _start, end in spans.values())
        for worker, (start, end) in sorted(spans.items()):
            idle = last - end
            lines.append(
                f"worker {worker}: {end - start:.1f} s from its first test, idle the last {idle:.1f} s"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 15))
