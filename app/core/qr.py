"""QR images, made by the server only where it must (printed cards, kiosks, pickups)."""

from __future__ import annotations

import io
from functools import lru_cache

import segno


@lru_cache(maxsize=4096)
def svg(data: str, scale: int = 6, border: int = 4) -> str:
    qr = segno.make(data, error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, border=border, xmldecl=False, svgns=True, dark="#000", light="#fff")
    return out.getvalue().decode()
