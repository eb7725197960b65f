"""Member codes (DESIGN.md §5).

phone card:   JM1-<public id>-<window>-<mac>   rotating every 15 s, accepted for at most 30 s
printed card: JC1-<28 symbols>                 static random code (≥ 128 bits), revocable
  typed:      JC1-<5 symbols>-<5 symbols>      the card's public id, printed under the QR for
                                               the scanner's typed field when the QR won't read
Neither carries personal data: the public id and the random code are looked up server-side.
The typed code (about 49 bits) is only ever entered by signed-in scanners, whose scans are logged.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from app.core import rotating
from app.core.codes import typed_form
from app.core.fields import parse_int, same_secret
from app.core.rotating import window_of
from app.core.security import CODE_ALPHABET, random_code, sign

PHONE_PREFIX = "JM1"
PRINTED_PREFIX = "JC1"
PRINTED_LENGTH = 28  # 28 * log2(30) ≈ 137 bits
PUBLIC_ID_LENGTH = 10
MAC_LENGTH = 16


def new_public_id() -> str:
    return random_code(PUBLIC_ID_LENGTH)


def new_printed_secret() -> str:
    return random_code(PRINTED_LENGTH)


def _mac(secret: str, public_id: str, window: int) -> str:
    digest = sign(secret, f"{PHONE_PREFIX}|{public_id}|{window}")
    return base64.b32encode(digest).decode()[:MAC_LENGTH]


def phone_code(public_id: str, secret: str, at: datetime) -> tuple[str, int]:
    window = window_of(at)
    return f"{PHONE_PREFIX}-{public_id}-{window}-{_mac(secret, public_id, window)}", window


def printed_code(secret: str) -> str:
    return f"{PRINTED_PREFIX}-{secret}"


def typed_code(public_id: str) -> str:
    """What is printed under a card's QR to type by hand: short, in groups, no look-alikes."""
    half = len(public_id) // 2
    return f"{PRINTED_PREFIX}-{public_id[:half]}-{public_id[half:]}"


@dataclass(frozen=True)
class ParsedCode:
    kind: str  # "phone", "printed" or "typed" (a printed card's public id, typed by hand)
    public_id: str | None = None
    window: int | None = None
    mac: str | None = None
    secret: str | None = None


def parse(code: str) -> ParsedCode | None:
    # As typed by hand too: full-width forms from an IME become ASCII, spaces go.
    code = "".join(typed_form(code).split()).upper()
    parts = code.split("-")
    window = parse_int(parts[2], 0, 10**12) if len(parts) == 4 else None
    if parts[0] == PHONE_PREFIX and window is not None:
        return ParsedCode("phone", public_id=parts[1], window=window, mac=parts[3])
    if parts[0] == PRINTED_PREFIX and len(parts) == 2 and len(parts[1]) == PRINTED_LENGTH:
        if all(ch in CODE_ALPHABET for ch in parts[1]):
            return ParsedCode("printed", secret=parts[1])
    # The typed code's dashes are what people leave out first (a phone's keyboard hides them,
    # or they type the groups with spaces): JC1EYMPP3EH5V is JC1-EYMPP-3EH5V.
    squeezed = code.replace("-", "")
    if squeezed.startswith(PRINTED_PREFIX):
        typed = squeezed[len(PRINTED_PREFIX) :]
        if len(typed) == PUBLIC_ID_LENGTH and all(ch in CODE_ALPHABET for ch in typed):
            return ParsedCode("typed", public_id=typed)
    return None


def check_phone_code(parsed: ParsedCode, secret: str, at: datetime) -> str | None:
    """None when valid, else a reason code. Valid in the current and the previous window."""
    assert parsed.public_id is not None and parsed.window is not None and parsed.mac is not None
    expected = _mac(secret, parsed.public_id, parsed.window)
    if not same_secret(expected, parsed.mac):
        return "code_invalid"
    return rotating.refusal(parsed.window, at)
