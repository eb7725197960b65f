"""Which Stripe the app uses: a real key always wins and the offline test Stripe is then never
used; without a key, only a data directory that `jinlin demo` switched to it uses it; otherwise
payments are off and the fake's routes answer nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from app.core.settings import Settings, load_settings
from app.payments import gateway


def _settings(tmp_path: Path, **env: str) -> Settings:
    return load_settings({"JINLIN_DATA_DIR": str(tmp_path), "JINLIN_SECRET_KEY": "k" * 40, **env})


def test_a_real_key_never_uses_the_offline_test_stripe(tmp_path: Path) -> None:
    gateway.enable_offline(tmp_path)  # even where the demo switched the data directory to it
    settings = _settings(tmp_path, STRIPE_API_KEY="sk_live_x", STRIPE_WEBHOOK_SECRET="whsec_real")
    config = gateway.config_for(settings)
    assert config is not None
    assert (config.offline, config.api_base, config.api_key, config.webhook_secret) == (
        False,
        None,
        "sk_live_x",
        "whsec_real",
    )
    pointed = gateway.config_for(replace(settings, stripe_api_base="http://127.0.0.1:12111"))
    assert pointed is not None and pointed.api_base == "http://127.0.0.1:12111" and not pointed.offline


def test_without_a_key_only_the_demo_data_directory_uses_the_offline_test_stripe(tmp_path: Path) -> None:
    assert gateway.config_for(_settings(tmp_path)) is None
    secret = gateway.enable_offline(tmp_path)
    assert gateway.enable_offline(tmp_path) == secret  # generated once, kept
    config = gateway.config_for(_settings(tmp_path, JINLIN_OWN_URL="http://127.0.0.1:8000"))
    assert config is not None and config.offline
    assert config.api_base == "http://127.0.0.1:8000/offline-stripe" and config.webhook_secret == secret
    assert "wechat_pay" in config.methods and "alipay" in config.methods


def test_currency_and_methods_are_settings(tmp_path: Path) -> None:
    settings = _settings(tmp_path, STRIPE_CURRENCY="CNY", STRIPE_PAYMENT_METHODS="wechat_pay, alipay,card")
    assert (settings.stripe_currency, settings.stripe_payment_methods) == (
        "cny",
        ("wechat_pay", "alipay", "card"),
    )
    assert _settings(tmp_path).stripe_payment_methods == ("card",)


async def test_the_fake_answers_nothing_while_payments_are_off(client: Any) -> None:
    page = await client.get("/offline-stripe/pay/cs_test_x")
    assert page.status_code == 404
    api = await client.post(
        "/offline-stripe/v1/checkout/sessions",
        data={"mode": "payment"},
        headers={"Authorization": f"Bearer {gateway.OFFLINE_API_KEY}"},
    )
    assert api.status_code == 404 and "error" in api.json()
