"""app.core.qr: what the server draws is a standard QR code that a real decoder reads back."""

from __future__ import annotations

import re
import secrets

import pytest

from app.core import qr
from tests.qrtools import rasterise_svg, read_svg


@pytest.mark.parametrize(
    "data",
    [
        "JP1-" + secrets.token_hex(10).upper(),
        "JC1-ABCDE-FGHJK",
        "https://jinlin.example/verify/" + secrets.token_urlsafe(16),
        "JE1." + secrets.token_urlsafe(40),
    ],
    # Named, not by their random values: each pytest-xdist worker collects the same tests.
    ids=["pickup", "card", "certificate", "event"],
)
def test_an_image_reads_back_with_error_correction_m(data: str) -> None:
    read = read_svg(qr.svg(data))
    assert read.text == data
    assert read.ec_level == "M"


@pytest.mark.parametrize(("scale", "border"), [(6, 4), (10, 4), (4, 2)])
def test_size_is_the_modules_and_quiet_zone_times_the_scale(scale: int, border: int) -> None:
    image = qr.svg("JP1-" + secrets.token_hex(6).upper(), scale=scale, border=border)
    side = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', image).group(1))  # type: ignore[union-attr]
    assert re.search(rf'width="{side * scale}" height="{side * scale}"', image)
    modules = side - 2 * border
    assert modules in {21 + 4 * v for v in range(40)}  # a QR version's size


def test_the_quiet_zone_is_four_light_modules_by_default() -> None:
    image = qr.svg("JP1-" + secrets.token_hex(10).upper())
    pixels = rasterise_svg(image, scale=1)
    side = pixels.width
    dark = [(x, y) for y in range(side) for x in range(side) if pixels.getpixel((x, y)) == 0]
    assert min(x for x, _ in dark) == 4 and min(y for _, y in dark) == 4
    assert max(x for x, _ in dark) == side - 5 and max(y for _, y in dark) == side - 5


def test_an_image_is_drawn_once_per_code() -> None:
    data = "JP1-" + secrets.token_hex(10).upper()
    assert qr.svg(data) is qr.svg(data)
