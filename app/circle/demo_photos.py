"""Pictures for the demo's service menus, drawn with Pillow when the demo is seeded (no network,
no stock photos), in the manner of the love supermarket's demo pictures: one flat, friendly
drawing per kind of service on a soft background. Only shapes, no text: the offer's name is
printed next to its picture in the reader's language."""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageDraw

SIZE = 640
SCALE = 2  # drawn at twice the size and scaled down: smooth edges

Drawer = Callable[[ImageDraw.ImageDraw], None]

INK = (58, 52, 46)
WHITE = (255, 255, 255)
RED = (196, 52, 45)
BLUE = (82, 146, 210)
YELLOW = (246, 206, 72)
GREEN = (120, 170, 80)


def _s(*values: float) -> list[float]:
    """Coordinates on a 160-unit grid, scaled to the canvas."""
    return [v * SIZE * SCALE / 160 for v in values]


def _w(units: float = 1.4) -> int:
    return max(1, round(units * SIZE * SCALE / 160))


def _scissors(d: ImageDraw.ImageDraw) -> None:
    d.polygon(_s(72, 84, 120, 30, 126, 36, 82, 92), fill=(200, 204, 210), outline=INK, width=_w())
    d.polygon(_s(88, 84, 40, 30, 34, 36, 78, 92), fill=(214, 218, 224), outline=INK, width=_w())
    for x in (58, 102):
        d.ellipse(_s(x - 16, 96, x + 16, 128), fill=RED, outline=INK, width=_w())
        d.ellipse(_s(x - 8, 104, x + 8, 120), fill=WHITE, outline=INK, width=_w(0.8))
    d.ellipse(_s(76, 82, 84, 90), fill=INK)


def _health(d: ImageDraw.ImageDraw) -> None:
    d.rounded_rectangle(_s(40, 44, 120, 128), radius=_s(14)[0], fill=WHITE, outline=INK, width=_w())
    d.rectangle(_s(70, 60, 90, 112), fill=RED)
    d.rectangle(_s(54, 76, 106, 96), fill=RED)
    d.rounded_rectangle(_s(64, 32, 96, 48), radius=_s(6)[0], fill=(236, 222, 196), outline=INK, width=_w())


def _repair(d: ImageDraw.ImageDraw) -> None:
    d.line(_s(50, 118, 104, 64), fill=INK, width=_w(14))
    d.line(_s(50, 118, 104, 64), fill=(160, 166, 176), width=_w(10))
    d.ellipse(_s(92, 34, 132, 74), fill=(160, 166, 176), outline=INK, width=_w())
    d.polygon(_s(106, 38, 118, 38, 118, 58, 106, 58), fill=WHITE)
    d.ellipse(_s(40, 108, 60, 128), fill=YELLOW, outline=INK, width=_w())


def _cleaning(d: ImageDraw.ImageDraw) -> None:
    d.polygon(_s(50, 70, 110, 70, 100, 130, 60, 130), fill=BLUE, outline=INK, width=_w())
    d.arc(_s(54, 40, 106, 96), 180, 360, fill=INK, width=_w(2))
    for x, y, r in ((64, 58, 9), (84, 50, 7), (100, 60, 6)):
        d.ellipse(_s(x - r, y - r, x + r, y + r), fill=WHITE, outline=BLUE, width=_w(1.2))
    d.rectangle(_s(58, 92, 102, 100), fill=WHITE)


def _care(d: ImageDraw.ImageDraw) -> None:
    d.ellipse(_s(46, 50, 82, 86), fill=RED, outline=INK, width=_w())
    d.ellipse(_s(78, 50, 114, 86), fill=RED, outline=INK, width=_w())
    d.polygon(_s(48, 76, 112, 76, 80, 122), fill=RED)
    d.line(_s(48, 77, 80, 122, 112, 77), fill=INK, width=_w())
    d.rounded_rectangle(_s(44, 118, 116, 132), radius=_s(6)[0], fill=GREEN, outline=INK, width=_w())


BACKGROUNDS = {
    "老张理发店": (250, 232, 236),
    "能人服务队": (228, 240, 250),
    "龙湖物业": (252, 241, 222),
    "树人家政": (228, 240, 250),
    "金太阳": (236, 244, 228),
}
DRAWERS: dict[str, Drawer] = {
    "老张理发店": _scissors,
    "能人服务队": _health,
    "龙湖物业": _repair,
    "树人家政": _cleaning,
    "金太阳": _care,
}


def picture(provider: str) -> bytes | None:
    """A PNG for the services of a demo provider, or None for one without a drawing."""
    drawer = DRAWERS.get(provider)
    if drawer is None:
        return None
    big = SIZE * SCALE
    image = Image.new("RGB", (big, big), BACKGROUNDS.get(provider, (245, 242, 235)))
    draw = ImageDraw.Draw(image)
    draw.ellipse(_s(12, 12, 148, 148), fill=WHITE)
    drawer(draw)
    out = io.BytesIO()
    image.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()
