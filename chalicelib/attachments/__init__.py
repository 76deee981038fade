"""Files in conversations (docs/attachments.md). The media types accepted live here, with no imports: app.py
names the binary ones at start-up, and importing the app loads nothing more for them."""
from __future__ import annotations

IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
TEXT = ("text/plain", "text/csv")
OFFICE = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word/",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xl/",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "ppt/",
    "application/vnd.oasis.opendocument.text": "",
    "application/vnd.oasis.opendocument.spreadsheet": "",
}
ALLOWED = frozenset({*IMAGES, "application/pdf", *TEXT, *OFFICE})
# Served as they are (binary media types for API Gateway). Text and CSV are served as application/octet-stream:
# as binary types they would turn the transcript's text and the report's CSV downloads binary too.
BINARY_TYPES = (*sorted(ALLOWED - set(TEXT)), "application/octet-stream")
