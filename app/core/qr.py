"""QR images, made by the server only where it must (printed cards, kiosks, pickups).

`qrcode` encodes (error correction M, the 4-module quiet zone the standard asks for) and draws
through its image-factory seam with `RunsSvg`: one path of horizontal runs in module units, so an
image is about 1.3 kB and drawn in well under a millisecond on top of the encoding, where
qrcode's own SVG path factory writes one square per dark module (about five times the text and
twice the time). Each image is cached: the same code is drawn once per process.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

import qrcode
import qrcode.constants
import qrcode.image.base


class RunsSvg(qrcode.image.base.BaseImage):  # type: ignore[misc]
    """An SVG of `box_size` CSS pixels a module: a white square, then each row's dark runs."""

    kind = "SVG"
    allowed_kinds = ("SVG",)
    needs_drawrect = False
    needs_processing = True

    def new_image(self, **kwargs: Any) -> list[str]:
        return []

    def drawrect(self, row: int, col: int) -> None:  # every module is drawn by process()
        raise NotImplementedError

    def process(self) -> None:
        runs: list[str] = []
        for r, line in enumerate(self.modules):
            c = 0
            while c < self.width:
                if line[c]:
                    start = c
                    while c < self.width and line[c]:
                        c += 1
                    runs.append(f"M{start + self.border} {r + self.border + 0.5}h{c - start}")
                else:
                    c += 1
        self._img = runs

    def to_string(self) -> str:
        side = self.width + 2 * self.border
        px = side * self.box_size
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{px}" height="{px}"'
            f' viewBox="0 0 {side} {side}" shape-rendering="crispEdges">'
            f'<path fill="#fff" d="M0 0h{side}v{side}h-{side}z"/>'
            f'<path class="qrline" stroke="#000" d="{"".join(self._img)}"/></svg>'
        )

    def save(self, stream: Any, kind: str | None = None) -> None:
        self.check_kind(kind)
        stream.write(self.to_string().encode())


@lru_cache(maxsize=4096)
def svg(data: str, scale: int = 6, border: int = 4) -> str:
    """The QR code of `data` as SVG text, `scale` CSS pixels a module, `border` modules of quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=scale, border=border)
    code.add_data(data)
    code.make(fit=True)
    image: RunsSvg = code.make_image(image_factory=RunsSvg)
    return image.to_string()


@lru_cache(maxsize=4096)
def data_uri(data: str, scale: int = 4) -> str:
    """The QR code of `data` as an image address to put in a page (`<img src>`)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg(data, scale=scale).encode()).decode()
