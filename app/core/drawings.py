"""The canvas of the demo's drawn pictures (the love supermarket's items, the service circle's
menus): drawn with Pillow when the demo is seeded (no network, no stock photos), on a 160-unit
grid at twice the size and scaled down for smooth edges, one flat drawing on a white disc over a
soft background. Only shapes, no text: a name is printed next to its picture in the reader's
language."""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageDraw

SIZE = 640
SCALE = 2  # drawn at twice the size and scaled down: smooth edges without anti-aliasing support

Drawer = Callable[[ImageDraw.ImageDraw], None]

INK = (58, 52, 46)
WHITE = (255, 255, 255)
SOFT = (245, 242, 235)


def s(*values: float) -> list[float]:
    """Coordinates on a 160-unit grid, scaled to the canvas."""
    return [v * SIZE * SCALE / 160 for v in values]


def w(units: float = 1.4) -> int:
    """A line width on the same grid."""
    return max(1, round(units * SIZE * SCALE / 160))


def render(drawer: Drawer, background: tuple[int, int, int] = SOFT) -> bytes:
    """The PNG of one drawing."""
    big = SIZE * SCALE
    image = Image.new("RGB", (big, big), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse(s(12, 12, 148, 148), fill=WHITE)
    drawer(draw)
    out = io.BytesIO()
    image.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()
