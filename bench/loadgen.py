"""A small HTTP/1.1 load generator for the benchmarks: keep-alive connections on raw asyncio
streams, so that the client spends as little of the shared 2-core machine as it can.

httpx costs about 1 ms of CPU per request, which on this machine would take a core away from the
server; this client costs a tenth of that. It understands only what the Jinlin API answers with:
a status line, headers with Content-Length, and a body (gunzipped if the server compressed it).

Each request carries the headers a phone's browser sends with the app's own `fetch` calls
(`BROWSER_HEADERS`: Chrome on Android, Chinese first), since kiosks and residents' phones are
browsers and the server's work per request depends on them (the compression layer runs for a
client that accepts gzip). `--bare-headers` on a bench (or `JINLIN_BENCH_BARE_HEADERS=1`) sends
only Host, Content-Length, Content-Type and the bench's own headers, as the benches did before
2026-11-30.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import uvloop

T = TypeVar("T")


# What Chrome on an Android phone sends with a same-origin `fetch(url, {headers: {Accept:
# "application/json"}})` from one of the app's pages, cookies aside (the benches sign in with a
# bearer token). `{origin}` is the server's address.
BROWSER_HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36"
    ),
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
    "Origin": "{origin}",
    "Referer": "{origin}/",
    "Sec-Fetch-Site": "same-origin",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Dest": "empty",
    "sec-ch-ua": '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
    "sec-ch-ua-mobile": "?1",
    "sec-ch-ua-platform": '"Android"',
}

bare_headers = os.environ.get("JINLIN_BENCH_BARE_HEADERS") == "1"
"""True: no browser headers (set by `--bare-headers`, see `add_options`)."""


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bare-headers",
        action="store_true",
        default=bare_headers,
        help="send no browser headers (User-Agent, Accept-Encoding, Accept-Language, ...), as before",
    )


def configure(args: argparse.Namespace) -> None:
    global bare_headers
    bare_headers = args.bare_headers


def drive(phase: Coroutine[Any, Any, T]) -> T:
    """Runs a set-up or load phase on uvloop (the loop the server's workers run on too): the
    client's CPU per request is lower than on asyncio's own loop, and on a shared machine what
    the client does not use, the server gets."""
    return uvloop.run(phase)


class Connection:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, origin: str
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.host = host
        self.browser = (
            [] if bare_headers else [f"{k}: {v.format(origin=origin)}" for k, v in BROWSER_HEADERS.items()]
        )

    @classmethod
    async def open(cls, url: str) -> Connection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        return cls(reader, writer, parts.netloc, f"{parts.scheme}://{parts.netloc}")

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        payload = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(payload)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines.extend(self.browser)
        lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        gzipped = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"content-encoding":
                gzipped = value.strip().lower() == b"gzip"
        raw = await self.reader.readexactly(length) if length else b""
        if gzipped:
            raw = gzip.decompress(raw)
        return status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw)

    def close(self) -> None:
        self.writer.close()


@dataclass
class Result:
    count: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


async def run(
    url: str,
    clients: int,
    seconds: float,
    make_request: Callable[[int, int], tuple[str, str, Any, dict[str, str]] | None],
    check: Callable[[int, Any], Awaitable[None] | None] | None = None,
) -> Result:
    """`clients` connections, each sending make_request(client, i) back to back for `seconds`,
    or until make_request gives None (a phase with a fixed amount of work, such as redeeming
    the codes bought); `elapsed` ends when the last connection stops."""
    result = Result()
    connections = [await Connection.open(url) for _ in range(clients)]
    stop = time.monotonic() + seconds

    async def client(n: int) -> None:
        conn = connections[n]
        i = 0
        while time.monotonic() < stop:
            request = make_request(n, i)
            if request is None:
                break
            method, path, body, headers = request
            started = time.perf_counter()
            status, answer = await conn.request(method, path, body, headers)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if check is not None:
                outcome = check(status, answer)
                if outcome is not None:
                    await outcome
            i += 1

    began = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    result.elapsed = time.monotonic() - began
    result.count = len(result.latencies)
    for conn in connections:
        conn.close()
    return result
