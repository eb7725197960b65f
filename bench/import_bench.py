"""Residents imported per second: a file of N rows (10,000 by default) checked by the dry run,
then imported by the job, through the app as an admin uses it.

    .venv/bin/python bench/import_bench.py                  # 10,000 rows
    .venv/bin/python bench/import_bench.py --rows 2000      # a quick run

It starts `jinlin serve` on a fresh embedded PostgreSQL (a temporary data directory) and a
`jinlin worker` beside it, makes a community with a compound of 20 buildings, and an admin who
logs in through the login form. The file is CSV: 90 % of its rows have a phone, 9 % are elderly
residents without one, 1 % are refused (a phone of 5 digits). The dry run is timed from the
upload to its report page; the import from the confirmation until the run's page says done
(the confirmation wakes the worker's import job, which may first finish another job it is
running, so some of that can be waiting), and the job's own time from its claim to done as the
run records it. It prints rows per second for each and for the dry run and the import together.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import re
import secrets
import subprocess
import sys
import time

import httpx
from common import ROOT, Admin, Server, _psql, create_admin, server

COUNT = re.compile(r'data-count="(\w+)">(\d+)<')


def make_file(rows: int, compound: str) -> bytes:
    base = secrets.randbelow(10**8 - rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["手机号", "姓名", "小区", "楼栋", "角色", "无手机"])
    for i in range(rows):
        building = f"{i % 20 + 1}号楼"
        if i % 100 == 99:
            writer.writerow(["12345", f"居民{i}", compound, building, "", ""])
        elif i % 10 == 9:
            writer.writerow(["", f"老人{i}", compound, building, "", "是"])
        else:
            writer.writerow(
                [f"176{base + i:08d}", f"居民{i}", compound, building, "志愿者" if i % 7 == 0 else "", ""]
            )
    return ("\ufeff" + out.getvalue()).encode()


async def csrf(http: httpx.AsyncClient, path: str) -> str:
    page = await http.get(path)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def places(srv: Server, community_id: int, compound: str) -> None:
    """A compound of 20 buildings, straight into the tables (the set-up, not measured)."""
    statement = (
        "INSERT INTO compounds (community_id, name, address, households)"
        f" VALUES ({community_id}, '{compound}', '', 0);"
        " INSERT INTO buildings (community_id, compound_id, name, leader_name)"
        f" SELECT {community_id}, c.id, g || '号楼', '' FROM compounds c, generate_series(1, 20) g"
        f" WHERE c.community_id = {community_id};"
    )
    subprocess.run([*_psql(srv), statement], check=True, capture_output=True)


async def measure(
    srv: Server, admin: Admin, body: bytes
) -> tuple[float, float, dict[str, int], dict[str, int]]:
    async with httpx.AsyncClient(base_url=srv.url, timeout=600, follow_redirects=True) as http:
        token = await csrf(http, "/login")
        answer = await http.post(
            "/login",
            data={"phone": admin.phone, "password": admin.password, "_csrf_token": token, "next": "/"},
        )
        assert answer.status_code in (200, 303), answer.text[:300]
        base = f"/admin/c/{admin.community_id}/imports"
        token = await csrf(http, base)
        started = time.perf_counter()
        answer = await http.post(
            base, data={"_csrf_token": token}, files={"file": ("bench.csv", body, "text/csv")}
        )
        dry = time.perf_counter() - started
        assert answer.status_code == 200 and "data-dry-run" in answer.text, answer.text[:500]
        run_page = str(answer.url.path)
        forecast = {k: int(v) for k, v in COUNT.findall(answer.text)}
        token = await csrf(http, run_page)
        started = time.perf_counter()
        answer = await http.post(f"{run_page}/start", data={"_csrf_token": token, "confirm": "1"})
        assert answer.status_code == 200, answer.text[:500]
        while True:
            part = await http.get(f"{run_page}?part=1")
            if "data-import-done" in part.text:
                break
            assert "hx-trigger" in part.text, part.text[:500]
            await asyncio.sleep(0.2)
        took = time.perf_counter() - started
        done = {k: int(v) for k, v in COUNT.findall(part.text)}
    return dry, took, forecast, done


def run(rows: int) -> None:
    with server(1, "jinlin-import-bench-") as srv:
        admin = create_admin(srv)
        compound = "基准小区"
        places(srv, admin.community_id, compound)
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            cwd=ROOT,
            env=srv.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            dry, took, forecast, done = asyncio.run(measure(srv, admin, make_file(rows, compound)))
        finally:
            worker.terminate()
            worker.wait(30)
        job = float(
            subprocess.run(
                [
                    *_psql(srv),
                    "SELECT extract(epoch FROM finished_at - started_at) FROM import_runs"
                    " ORDER BY id DESC LIMIT 1",
                    "-t",
                    "-A",
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
    print(f"rows: {rows}; forecast {forecast}; outcome {done}")
    print(f"dry run (upload, read, stage, check, report): {dry:.2f} s, {rows / dry:,.0f} rows/s")
    print(f"import (confirm until done, polled by the worker): {took:.2f} s, {rows / took:,.0f} rows/s")
    print(f"the import job itself (claimed until done): {job:.2f} s, {rows / job:,.0f} rows/s")
    print(f"together: {dry + took:.2f} s, {rows / (dry + took):,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    run(parser.parse_args().rows)


if __name__ == "__main__":
    main()
