"""Typed settings, read once from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


class SettingsError(RuntimeError):
    pass


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    data_dir: Path
    secret_key: str
    # Cookies are Secure unless we serve the local demo over plain http.
    secure_cookies: bool
    session_idle_minutes: int = 60 * 24
    session_absolute_hours: int = 24 * 14
    login_max_failures_per_phone: int = 10
    login_max_failures_per_address: int = 100
    login_window_minutes: int = 15
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    # Checkout's currency and payment methods: CNY with WeChat Pay and Alipay where the Stripe
    # account supports them (STRIPE_PAYMENT_METHODS=wechat_pay,alipay,card), card otherwise.
    stripe_currency: str = "cny"
    stripe_payment_methods: tuple[str, ...] = ("card",)
    # Where this server answers (`jinlin serve` sets it for its workers): the offline test
    # Stripe of the demo is served by the app itself under this address.
    own_url: str | None = None
    run_jobs_in_process: bool = True
    # A streaming replica of DATABASE_URL's database: dashboards and exports read from it when
    # it is set (app.core.replica), from the primary otherwise.
    database_replica_url: str | None = None
    # Whether the outgoing webhook may post to loopback and private networks (a gateway on the
    # premises); link-local, multicast and unspecified addresses stay refused (app.notices.outbound).
    webhook_private_targets: bool = False
    # The reverse proxies in front of the app (addresses or networks, JINLIN_TRUSTED_PROXIES):
    # behind them a client's address is read from X-Forwarded-For (app.core.proxies).
    trusted_proxies: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"


def _secret_from_data_dir(data_dir: Path) -> str:
    """With the embedded database the key is generated once and shared by every process."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if not path.exists():
        # A temporary file of this writer's own: with one name for all, a process starting at the
        # same moment wrote its key into the file another had just linked in place, or found it
        # gone, and the two went on with different keys.
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as written:
            written.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)  # atomic: the first process to create it wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    database_url = env.get("DATABASE_URL") or None
    data_dir = Path(env.get("JINLIN_DATA_DIR") or "./var").resolve()
    secret = env.get("JINLIN_SECRET_KEY") or ""
    if not secret:
        if database_url is not None:
            raise SettingsError("JINLIN_SECRET_KEY is required when DATABASE_URL is set")
        secret = _secret_from_data_dir(data_dir)
    if len(secret) < 32:
        raise SettingsError("JINLIN_SECRET_KEY must be at least 32 characters")
    secure_default = database_url is not None
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key=secret,
        secure_cookies=_bool(env.get("JINLIN_SECURE_COOKIES"), secure_default),
        stripe_api_key=env.get("STRIPE_API_KEY") or None,
        stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
        stripe_api_base=env.get("STRIPE_API_BASE") or None,
        stripe_currency=(env.get("STRIPE_CURRENCY") or "cny").strip().lower(),
        stripe_payment_methods=tuple(
            m.strip() for m in (env.get("STRIPE_PAYMENT_METHODS") or "card").split(",") if m.strip()
        ),
        own_url=(env.get("JINLIN_OWN_URL") or "").rstrip("/") or None,
        run_jobs_in_process=_bool(env.get("JINLIN_JOBS_IN_PROCESS"), True),
        database_replica_url=env.get("DATABASE_REPLICA_URL") or None,
        webhook_private_targets=_bool(env.get("JINLIN_WEBHOOK_PRIVATE_TARGETS"), False),
        trusted_proxies=tuple(
            p.strip() for p in (env.get("JINLIN_TRUSTED_PROXIES") or "").split(",") if p.strip()
        ),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
