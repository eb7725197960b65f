"""Shared fixtures: a real PostgreSQL (embedded unless TEST_DATABASE_URL is set) migrated with
Alembic, the app, clients, a live multi-worker server, and factories for tenants and people.

Tests isolate themselves by making their own community and people (unique names and phone
numbers), so they can share one migrated database and run against live servers too."""

from __future__ import annotations

import os
import tempfile

# Cheap password hashing for every process the tests start (live servers inherit it), set before
# the app is imported; tests/unit/test_passwords.py holds production to the strong parameters.
os.environ["JINLIN_ARGON2"] = "fast"
# pgserver starts, joins and leaves every embedded PostgreSQL under one lock file in the user's
# runtime directory, one for the whole machine: a test worker's server waited for the other
# worker's initdb, and a `jinlin serve` stopping in a test waited 10 - 18 s at its exit for other
# processes' servers. Each test process has a runtime directory of its own (mkdtemp's 0700, as
# platformdirs requires of XDG_RUNTIME_DIR, or it falls back to the shared one), which the
# processes it starts inherit, with it the lock of the servers they share.
os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="jinlin-run-")
# The app's settings outside a request (the jobs' reconciliation with Stripe, a kiosk code's key)
# are read from the environment: without a data directory of the tests' own they were those of
# the checkout's ./var, where `jinlin demo` had switched payments to its offline Stripe on port
# 8000, and the tests after a demo asked a Stripe nobody ran.
os.environ["JINLIN_DATA_DIR"] = tempfile.mkdtemp(prefix="jinlin-data-")

import asyncio
import base64
import concurrent.futures
import contextlib
import itertools
import secrets
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from litestar.middleware.compression import middleware as compression
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.accounts import services
from app.asgi import create_app
from app.core.authz import Actor
from app.core.database import libpq_url, normalise_url
from app.core.migrate import upgrade
from app.core.settings import Settings
from app.demo import ensure_admin
from app.places.models import Community
from tests.chromium import THIS_PROCESS, pytest_runtest_setup  # noqa: F401 - one Chromium a test process
from tests.cpu_record import pytest_runtest_protocol  # noqa: F401 - CPU per test with JINLIN_CPU_RECORD
from tests.file_order import pytest_collection_modifyitems  # noqa: F401 - the costliest files first

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
SECRET = "test-secret-" + "x" * 40
_counter = itertools.count(1)


def unique(prefix: str = "") -> str:
    return f"{prefix}{os.getpid()}-{next(_counter)}-{secrets.token_hex(3)}"


def unique_phone() -> str:
    return "139" + str(secrets.randbelow(10**8)).zfill(8)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database with every migration applied."""
    external = os.environ.get("TEST_DATABASE_URL")
    server = None
    if external:
        admin_url = normalise_url(external)
    else:
        # Lazily: only the embedded server needs them (TEST_DATABASE_URL names another).
        import pgserver

        from tests.integration.helpers import owned_directory, stop_orphans

        # The servers of runs killed before their teardown are stopped first; this one's
        # directory names this process, for the runs after it.
        stop_orphans()
        base = owned_directory("jinlin-test-")
        server = pgserver.get_server(base / "pg", cleanup_mode="delete")
        admin_url = normalise_url(server.get_uri()).replace("postgres:@", "postgres@")
        _more_connections(pgserver, server, admin_url)
    name = f"jinlin_test_{os.getpid()}"
    # A commit answers before its WAL reaches the disk (synchronous_commit off, for this database
    # alone: every session on it, the live servers' too): the tests never crash this server, and
    # nothing else changes (locks, visibility, constraints). Waiting for the disk cost about 4 ms a
    # commit on this shared machine; tests/store took 83 - 96 s against 52 - 64, alternated.
    _admin_sql(
        admin_url,
        f"DROP DATABASE IF EXISTS {name}",
        f"CREATE DATABASE {name}",
        f"ALTER DATABASE {name} SET synchronous_commit = off",
    )
    url = _with_database(admin_url, name)
    upgrade(url)
    yield url
    if external:
        _admin_sql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    if server is not None:
        server.cleanup()


# Connections the embedded test server takes at once, against PostgreSQL's 100. The pools of a
# test process's servers stay open while its tests run, each up to its size: the started app's
# (20 asyncpg, 15 SQLAlchemy, the dashboards' and the change feed's), the `engine` fixture's, and
# per worker of each live server as many again, with the job worker's. tests/wishes/test_races.py
# alone peaked at 52 backends; beside the other live servers of a whole run, the twenty claims'
# connections met "sorry, too many clients already".
TEST_MAX_CONNECTIONS = 400


def _more_connections(pgserver: Any, server: Any, admin_url: str) -> None:
    """Raises the embedded server's max_connections to TEST_MAX_CONNECTIONS: a restart, before
    anything else connects (about a second)."""
    _admin_sql(admin_url, f"ALTER SYSTEM SET max_connections = {TEST_MAX_CONNECTIONS}")
    with server._lock:
        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        server.ensure_postgres_running()


def _with_database(url: str, name: str) -> str:
    head, _, tail = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{tail}" if tail else "")


def _admin_sql(url: str, *statements: str) -> None:
    async def run() -> None:
        conn = await _connect(asyncpg, url)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    # In a thread of its own: sync Playwright may keep an event loop running in this one (a
    # browser module's fixture after another browser module: tests.chromium).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


async def _connect(asyncpg: Any, url: str) -> Any:
    return await asyncpg.connect(libpq_url(url))


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        secret_key=SECRET,
        secure_cookies=False,
        run_jobs_in_process=False,
        # The tests' webhook receivers listen on 127.0.0.1, as a gateway on the premises would.
        webhook_private_targets=True,
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture(scope="session")
async def started(app: Any) -> AsyncIterator[AsyncTestClient]:
    """The app started (its pools, its change feed's listening connection, the job hooks) once
    per test process, and stopped at the end. Started and stopped for each test, it cost about
    45 ms of CPU a test, the test process's and PostgreSQL's (new backends for the pools and the
    feed, a full garbage collection): 117 tests of eight API files took 22.8 CPU-s against 17.4
    started once. Tests get it through `client` (or this, to keep it for a module): the same app
    started again beside it would run its pools on two event loops at once."""
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def client(started: AsyncTestClient, app: Any) -> AsyncIterator[AsyncTestClient]:
    """A client of the started app, as if both were new: no cookies, the usual headers, and
    nothing in the worker's memory (every memo forgets, as when the change feed connects at
    start-up). What a test changes on the client is undone after it."""
    headers = started.headers.copy()
    started.cookies.clear()
    app.state["actors"].feed.forget_all()
    try:
        yield started
    finally:
        started.cookies.clear()
        started.headers = headers


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[Any]:
    eng = create_async_engine(database_url, pool_size=5)
    yield eng
    await eng.dispose()


@pytest.fixture
async def db(engine: Any) -> AsyncIterator[AsyncSession]:
    """A session for setting up and checking data; commit what other connections must see."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        yield session


# ---------------------------------------------------------------- factories


@dataclass
class Person:
    user_id: int
    phone: str | None
    password: str
    display_name: str
    token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        assert self.token, "log in first"
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Tenant:
    street_id: int
    community_id: int
    join_code: str
    admin: Person


class Factory:
    """Makes tenants and people straight through the services, committed."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    async def tenant(self, name: str | None = None) -> Tenant:
        phone = unique_phone()
        password = "admin-pass-" + secrets.token_hex(4)
        async with async_sessionmaker(self.engine, expire_on_commit=False)() as s, s.begin():
            ids = await ensure_admin(
                s,
                phone=phone,
                password=password,
                community_name=name or unique("社区"),
                street_name=unique("街道"),
                display_name="管理员",
            )
            community = await s.get(Community, ids["community_id"])
            assert community is not None
            join_code = community.join_code
        return Tenant(
            ids["street_id"],
            ids["community_id"],
            join_code,
            Person(ids["user_id"], phone, password, "管理员"),
        )

    async def person(
        self,
        tenant: Tenant,
        roles: list[str] | None = None,
        name: str = "居民",
        phone: str | None = "auto",
        password: str | None = None,
    ) -> Person:
        real_phone = unique_phone() if phone == "auto" else phone
        pw = password or ("pass-" + secrets.token_hex(5)) if real_phone else None
        admin = Actor(
            user_id=tenant.admin.user_id,
            display_name="管理员",
            roles={tenant.community_id: frozenset({"admin"})},
        )
        async with async_sessionmaker(self.engine, expire_on_commit=False)() as s, s.begin():
            user = await services.add_resident(
                s,
                admin,
                tenant.community_id,
                services.ResidentInput(
                    display_name=name, phone=real_phone, password=pw, roles=roles or ["resident"]
                ),
            )
        return Person(user.id, real_phone, pw or "", name)


@contextlib.contextmanager
def refused_reconnections(feed: Any) -> Iterator[None]:
    """While inside, a change feed that lost its listening connection cannot open another (it
    asks for a database that does not exist), so a test can look at it while it cannot hear:
    a feed that may listen again reconnects at once, sooner than a test could look."""
    url = feed.url
    feed.url = _with_database(url, "jinlin_refused")
    try:
        yield
    finally:
        feed.url = url


@pytest.fixture
def factory(engine: Any) -> Factory:
    return Factory(engine)


async def login(client: Any, person: Person) -> Person:
    response = await client.post(
        "/api/v1/auth/token", json={"phone": person.phone, "password": person.password}
    )
    assert response.status_code == 200, response.text
    person.token = response.json()["access_token"]
    return person


@pytest.fixture
async def site(client: Any, factory: Factory) -> Any:
    """A tenant with a logged-in admin and two logged-in residents."""
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    alice = await login(client, await factory.person(tenant, name="郑美玉"))
    bob = await login(client, await factory.person(tenant, name="黄志强"))
    return tenant, admin, alice, bob


# ---------------------------------------------------------------- live server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path

    def stop(self, sig: int | None = None) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig or signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_server(
    database_url: str,
    data_dir: Path,
    workers: int = 2,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> LiveServer:
    """`jinlin serve` on the database; `env` adds to the environment (JINLIN_JOBS_IN_PROCESS=0: a
    server that runs no jobs, for a test that runs them itself)."""
    if port is not None:
        return _start_server(database_url, data_dir, workers, port, env)
    # A free port is free only until someone binds it: test workers running in parallel each pick
    # their own, and a rare clash is retried on another.
    for attempt in range(3):
        try:
            return _start_server(database_url, data_dir, workers, free_port(), env)
        except ServerExited as exc:
            if attempt == 2 or "in use" not in str(exc).lower():
                raise
    raise AssertionError("unreachable")


class ServerExited(RuntimeError):
    pass


def _start_server(
    database_url: str, data_dir: Path, workers: int, port: int, extra: dict[str, str] | None = None
) -> LiveServer:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JINLIN_SECRET_KEY": SECRET,
        "JINLIN_DATA_DIR": str(data_dir),
        "JINLIN_SECURE_COOKIES": "0",
        **(extra or {}),
    }
    env.pop("JINLIN_EMBEDDED_URL", None)
    log = data_dir / f"server-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerExited(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return LiveServer(url, process, env, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not become ready: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`jinlin serve --workers 2` on the test database, for races and the browser."""
    server = start_server(database_url, tmp_path_factory.mktemp("live"), workers=2)
    yield server
    server.stop()


def journey_admin(server: LiveServer) -> tuple[str, str, int]:
    """A community admin of a new community and street on the server's database (new_admin): a
    journey needs an admin. Its phone, password and community."""
    return new_admin(server.env["DATABASE_URL"])


def new_admin(database_url: str) -> tuple[str, str, int]:
    """A community admin of a new community and street on the database, made as `jinlin admin
    create` makes one (app.demo.ensure_admin) but in this process: starting the command for it
    cost about 2.5 CPU-s each time (the command, beside a running serve too, is tested in
    tests/integration/test_cli.py). Its phone, password and community.
    In a thread of its own: sync Playwright may keep an event loop running in this one."""
    phone, password = unique_phone(), "admin-" + secrets.token_hex(4)

    async def run() -> int:
        engine = create_async_engine(normalise_url(database_url))
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
                ids = await ensure_admin(
                    s,
                    phone=phone,
                    password=password,
                    community_name=unique("军门社区"),
                    street_name=unique("东街街道"),
                    display_name=phone,
                )
            return int(ids["community_id"])
        finally:
            await engine.dispose()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return phone, password, pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


async def count(session: AsyncSession, sql: str, **params: Any) -> int:
    return int((await session.execute(text(sql), params)).scalar_one())


# ---------------------------------------------------------------- browser


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Any:
    """The test process's Chromium (tests.chromium)."""
    return THIS_PROCESS.get(request)


# Screenshots are for people to look at, and the first screen is what a phone shows: a whole long
# page cost Chromium about 0.4 s more per page (relayout at full height, PNG encoding), most of the
# page-walking tests' time. JINLIN_FULL_SCREENSHOTS=1 takes whole pages.
FULL_SCREENSHOTS = os.environ.get("JINLIN_FULL_SCREENSHOTS") == "1"
# The first screen is asked of Chromium through the page's own DevTools session, its PNG encoded
# for speed (same pixels, larger file): Playwright's screenshot first runs scripts in the page (it
# hides the caret, waits for the fonts) and measures it. 20 screenshots of two pages each cost 13 –
# 15 ms of CPU a screenshot against 20 – 31; five of the Chinese every-page walks (the staff's in
# 长辈版, the admin's, the street admin's), alternated: 27.4 and 27.9 CPU-s against 28.3 and 29.2.
_SCREENS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def screenshot(page: Any, path: Path) -> None:
    try:
        _capture(page, path)
    except Exception as exc:  # noqa: BLE001 - only Chromium's transient capture failure is retried
        # Right after a resize or a page's own refresh, Chromium sometimes has no frame to capture
        # yet ("Unable to capture screenshot"); the next frame has one.
        if "Unable to capture screenshot" not in str(exc):
            raise
        page.wait_for_timeout(500)
        _capture(page, path)


def _capture(page: Any, path: Path) -> None:
    if FULL_SCREENSHOTS:
        page.screenshot(path=str(path), full_page=True)
        return
    session = _SCREENS.get(page)
    if session is None:
        session = _SCREENS[page] = page.context.new_cdp_session(page)
    shot = session.send("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True})
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    """A phone-sized page (390×844, zh-Hans); close its context after the test."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2
    )
    page = context.new_page()
    yield page
    context.close()


# ---------------------------------------------------------------- the compression layer

# What a browser or a phone sends: the compression layer answers such a client.
GZIP = {"accept-encoding": "gzip, deflate"}


@pytest.fixture
def compressors(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every gzip compressor the compression layer makes, while the test runs."""
    made: list[Any] = []

    class Counted(compression.GzipCompression):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(compression, "GzipCompression", Counted)
    return made


# ---------------------------------------------------------------- races

_LOCK_WAITS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
)


async def until_a_lock_wait(session: AsyncSession, what: str) -> None:
    """Returns once a backend of this database waits for a lock: a race's second party has
    reached the row or key the first holds. Fails after about 5 s, naming `what` did not wait."""
    for _ in range(100):
        waiting = await session.scalar(_LOCK_WAITS)
        await session.rollback()
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not wait")


async def sent_twice_at_once(engine: Any, send: Callable[[AsyncSession], Awaitable[Any]]) -> tuple[Any, Any]:
    """One form sent twice in transactions of their own (`send(session)` makes what it makes):
    the second is started while the first is uncommitted, must wait on a lock (its key's unique
    index) until the first commits, then answers. Returns what each sending answered."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as first, sessions() as second:
        made = await send(first)
        twin = asyncio.create_task(send(second))
        async with sessions() as watcher:
            await until_a_lock_wait(watcher, "the second sending")  # on the first's uncommitted key
        assert not twin.done()
        await first.commit()
        again = await twin
        await second.commit()
    return made, again
