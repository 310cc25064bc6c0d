"""QR codes carry exactly the URL they are given (SECURITY.md 15): rebuilt and compared."""

from __future__ import annotations

import qrcode
import qrcode.constants

from flask_modular_login.server.invitations import qr
from tests.support.access import png_matrix

URL = "http://localhost/login/access/accept/riR6DAx1U5vKrovaHCAmXgGaInQGOdVb"


def reference(data: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def test_matrix_is_the_url_and_nothing_else():
    assert qr.matrix(URL) == reference(URL)
    assert qr.matrix(URL) != reference(URL + "x")


def test_png_pixels_are_the_matrix():
    image = qr.png(URL)
    assert png_matrix(image) == reference(URL)
    assert png_matrix(qr.png(URL, scale=3), scale=3) == reference(URL)


def test_svg_is_an_inline_element_of_the_same_code():
    svg = qr.svg(URL)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and URL not in svg, "modules only, no text"
    assert svg == qr.svg(URL) and svg != qr.svg(URL + "x")
    side = len(reference(URL))
    assert f'viewBox="0 0 {side} {side}"' in svg


def test_images_are_the_svg_and_png_of_one_code_computed_once(monkeypatch):
    made: list[str] = []
    original = qr._code

    def counting(data: str) -> qrcode.QRCode:
        made.append(data)
        return original(data)

    expected = (qr.svg(URL), qr.png(URL))
    monkeypatch.setattr(qr, "_code", counting)
    assert qr.images(URL) == expected
    assert made == [URL], "the code is the costly part: once for both images"
