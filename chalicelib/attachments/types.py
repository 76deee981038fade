"""Which files may be attached, and what a file really is, judged from its bytes alone.

The name and the type the uploader declared are never trusted: the check (checking.py) reads the
bytes, finds their type by signature (the `filetype` package: magic numbers; office documents are zip
containers, told apart by the parts inside) and accepts the file only when that is the declared type.
Plain text and CSV have no signature: they must decode as UTF-8 and hold no control characters but
tab, newline, carriage return and form feed.
"""
from __future__ import annotations

import io
import re
import zipfile

from . import ALLOWED, OFFICE, TEXT

# Zip containers opened to tell office documents apart: at most this many entries are listed.
MAX_ZIP_ENTRIES = 10_000
# Control characters but tab, newline, form feed and carriage return. In UTF-8 a byte below 0x20 is always
# that ASCII character (continuation bytes are 0x80 and up), so the bytes are searched, not the text.
_TEXT_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")


def normalise(declared: str) -> str:
    """The media type without parameters, lower case: "text/plain; charset=utf-8" -> "text/plain"."""
    return declared.split(";", 1)[0].strip().lower()


def detect(data: bytes, declared: str) -> str | None:
    """The allowed type the bytes are, when it is the declared one; None for anything else."""
    declared = normalise(declared)
    if declared in TEXT:
        return declared if _is_text(data) else None
    if declared in OFFICE:
        return declared if _office_document(data, declared) else None
    import filetype  # type: ignore[import-untyped]  # only the check loads it (app.py reads the lists above)

    found = filetype.guess_mime(data[:8192])
    return declared if found == declared and declared in ALLOWED else None


def _is_text(data: bytes) -> bool:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _TEXT_CONTROLS.search(data) is None


def _office_document(data: bytes, declared: str) -> bool:
    """An OOXML document holds its part folder (word/, xl/, ppt/) and [Content_Types].xml; an
    OpenDocument one names its type in the `mimetype` entry the format puts first."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as container:
            infos = container.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                return False
            names = [info.filename for info in infos]
            if declared.startswith("application/vnd.oasis."):
                mimetype = container.getinfo("mimetype") if "mimetype" in names else None
                return (mimetype is not None and mimetype.file_size < 100
                        and container.read(mimetype).strip() == declared.encode())
    except (zipfile.BadZipFile, ValueError, KeyError, NotImplementedError, RuntimeError):
        return False
    return "[Content_Types].xml" in names and any(name.startswith(OFFICE[declared]) for name in names)
