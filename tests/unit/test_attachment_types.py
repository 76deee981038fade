"""What a file really is, from its bytes: the name and the declared type are never trusted."""
from __future__ import annotations

import pytest

from chalicelib.attachments import ALLOWED
from chalicelib.attachments.types import detect
from tests.attachment_files import DOCX, ODT, XLSX, docx, exe, odt, office, pdf, png, xlsx


@pytest.mark.parametrize(("data", "declared"), [
    (png(), "image/png"), (png(), "IMAGE/PNG; name=x"), (pdf(), "application/pdf"),
    (docx(), DOCX), (xlsx(), XLSX), (odt(), ODT),
    ("Grüße, 你好\tcol\r\n".encode(), "text/plain"), (b"\xef\xbb\xbfa,b\n1,2\n", "text/csv"),
])
def test_a_file_of_an_accepted_type_is_what_it_says(data: bytes, declared: str):
    assert detect(data, declared) == declared.split(";")[0].lower()


@pytest.mark.parametrize(("data", "declared"), [
    (png(), "application/pdf"),  # a PNG named .pdf
    (exe(), "image/png"),  # an executable renamed .png
    (exe(), "application/pdf"),
    (pdf(), "image/png"),
    (docx(), XLSX),  # an office document of another kind
    (xlsx(), DOCX),
    (office({"word/document.xml": b"x"}), DOCX),  # no [Content_Types].xml: not OOXML
    (office({"mimetype": b"application/zip"}), ODT),
    (office({"[Content_Types].xml": b"", "word/x": b""}), "application/zip"),  # zip itself is not accepted
    (b"\xff\xfe\x00bad utf-8 \xc3", "text/plain"),
    (b"text with a NUL\x00 byte", "text/csv"),
    (exe(), "text/plain"),
    (b"not a zip at all", DOCX),
    (png(), "image/svg+xml"),  # not accepted at all
])
def test_anything_else_is_refused(data: bytes, declared: str):
    assert detect(data, declared) is None


def test_the_accepted_types_are_images_pdf_text_and_office_documents():
    assert {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv",
            DOCX, XLSX, ODT} <= ALLOWED
    assert not {"application/zip", "text/html", "image/svg+xml", "application/x-msdownload"} & ALLOWED
