"""QR codes of invite links: a URL in, an SVG (to inline) or PNG bytes out.

Pure apart from the ``qrcode`` package: no Flask, no store. The caller passes
exactly the accept URL (``.../access/accept/<code>``) and nothing else, so a
QR code carries only the invite code; revoking the invite makes the URL answer
410, which kills every copy of the QR code too (SECURITY.md 15).

The PNG is written here with ``zlib`` (1-bit greyscale), so neither Pillow nor
pypng is needed.
"""

from __future__ import annotations

import struct
import zlib

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathImage

BORDER = 4  # modules of quiet zone, as the QR specification asks
PNG_SCALE = 8  # pixels per module
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _code(data: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=BORDER)
    code.add_data(data)
    code.make(fit=True)
    return code


def matrix(data: str) -> list[list[bool]]:
    """The modules of ``data``'s QR code, quiet zone included (True: dark)."""
    return [list(row) for row in _code(data).get_matrix()]


def svg(data: str) -> str:
    """An ``<svg>`` element (no XML declaration) drawing ``data``'s QR code, to inline in HTML."""
    return _svg(_code(data))


def png(data: str, scale: int = PNG_SCALE) -> bytes:
    """A PNG of ``data``'s QR code, ``scale`` pixels per module."""
    return _png(_code(data), scale)


def images(data: str) -> tuple[str, bytes]:
    """``(svg(data), png(data))``, the QR code computed once for both (its costliest part)."""
    code = _code(data)
    return _svg(code), _png(code, PNG_SCALE)


def _svg(code: qrcode.QRCode) -> str:
    text = code.make_image(image_factory=SvgPathImage).to_string(encoding="unicode")
    return text[text.index("<svg"):] if "<svg" in text else text


def _png(code: qrcode.QRCode, scale: int) -> bytes:
    rows = [list(row) for row in code.get_matrix()]
    size = len(rows) * scale
    lines = []
    for row in rows:
        line = b"\x00" + _packed([not dark for dark in row for _ in range(scale)])
        lines.extend([line] * scale)
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return (_PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"".join(lines), 9)) + _chunk(b"IEND", b""))


def _packed(bits: list[bool]) -> bytes:
    """Bits, most significant first, padded with zeros to whole bytes."""
    padded = len(bits) + (-len(bits)) % 8
    text = "".join("1" if bit else "0" for bit in bits).ljust(padded, "0")
    return int(text, 2).to_bytes(padded // 8, "big")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
