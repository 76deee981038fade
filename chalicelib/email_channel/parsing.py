"""Reading a received email (RFC 822 bytes) with the standard library (`email`, policy=default) into
what the channel needs, refusing what cannot be read. Mail is hostile input: every header is read
defensively, and nothing here trusts a length, a charset or a part count."""
from __future__ import annotations

from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from .quotes import strip_quoted

MAX_RAW_BYTES = 10 * 1024 * 1024  # larger mail is dropped unread (SES itself refuses over 40 MB)
MAX_ATTACHMENTS = 10  # as message.send's attachment_ids
MAX_TEXT = 4000  # a message's text: longer mail is cut here (docs/email.md)
CUT_MARK = " […]"
MAX_IDS = 50  # Message-IDs read from References


class MalformedMail(ValueError):
    """The bytes are not an email we can read (no headers, no sender, a broken structure)."""


class TooLarge(ValueError):
    pass


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    sender: str  # the From address, lower-cased; "" for the null sender
    sender_name: str
    recipients: list[str]  # To, Cc, Delivered-To, X-Original-To addresses, lower-cased
    message_id: str | None  # "<...>"
    in_reply_to: list[str]
    references: list[str]
    subject: str
    text: str  # the new text of the reply, quoted history stripped, at most MAX_TEXT
    headers: dict[str, str]  # lower-cased names of the headers screening reads
    content_type: str
    report_type: str | None
    attachments: list[Attachment] = field(default_factory=list)
    return_path: str | None = None


_SCREENED = ("return-path", "auto-submitted", "precedence", "x-autoreply", "x-autorespond", "x-auto-response-suppress",
             "list-id", "list-unsubscribe", "x-loop", "x-switchboard-conversation",
             "x-ses-spam-verdict", "x-ses-virus-verdict", "authentication-results")


def parse(raw: bytes) -> ParsedMail:
    if len(raw) > MAX_RAW_BYTES:
        raise TooLarge(f"over {MAX_RAW_BYTES} bytes")
    try:
        mail = message_from_bytes(raw, policy=default)
        return _read(mail)
    except (MalformedMail, TooLarge):
        raise
    except Exception as err:  # a header or part the library cannot read: refused, never a 500
        raise MalformedMail(f"unreadable email ({type(err).__name__})") from None


def _header(mail: Message, name: str) -> str:
    value = mail.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _ids(value: str) -> list[str]:
    return [f"<{part.strip('<>')}>" for part in value.replace(",", " ").split()
            if part.startswith("<") and part.endswith(">") and "@" in part][:MAX_IDS]


def _read(mail: EmailMessage) -> ParsedMail:
    if not mail.keys() or not mail.get("From") and not mail.get("Return-Path"):
        raise MalformedMail("no headers, or no From")
    name, sender = parseaddr(_header(mail, "From"))
    if sender and "@" not in sender:
        raise MalformedMail("From is not an address")
    recipients = [address.lower() for _, address in getaddresses(
        [_header(mail, h) for h in ("To", "Cc", "Delivered-To", "X-Original-To") if mail.get(h)]) if address]
    message_id = next(iter(_ids(_header(mail, "Message-ID"))), None)
    attachments: list[Attachment] = []
    for part in mail.iter_attachments():
        if len(attachments) >= MAX_ATTACHMENTS:
            raise TooLarge(f"more than {MAX_ATTACHMENTS} attachments")
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            attachments.append(Attachment(part.get_filename() or "attachment", part.get_content_type(), payload))
    return ParsedMail(
        sender=sender.lower(), sender_name=name, recipients=recipients, message_id=message_id,
        in_reply_to=_ids(_header(mail, "In-Reply-To")), references=_ids(_header(mail, "References")),
        subject=_header(mail, "Subject")[:300], text=_cut(strip_quoted(_body_text(mail))),
        headers={h: _header(mail, h) for h in _SCREENED if mail.get(h) is not None},
        content_type=mail.get_content_type(), report_type=_report_type(mail),
        attachments=attachments, return_path=parseaddr(_header(mail, "Return-Path"))[1] or None)


def _report_type(mail: EmailMessage) -> str | None:
    """A delivery or read report's kind (RFC 6522 multipart/report): a machine's answer, not a person's."""
    if mail.get_content_type() != "multipart/report":
        return None
    kind = mail.get_param("report-type", header="content-type")
    return kind if isinstance(kind, str) else "unknown"


def _body_text(mail: EmailMessage) -> str:
    """The plain text part; else the HTML part as text (tags dropped, never rendered); else ""."""
    plain = mail.get_body(("plain",))
    if plain is not None:
        return str(plain.get_content())
    html = mail.get_body(("html",))
    return html_to_text(str(html.get_content())) if html is not None else ""


def _cut(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - len(CUT_MARK)].rstrip() + CUT_MARK


class _TextOf(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})
    _SKIPPED = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._skipping += 1
        elif tag in self._BREAKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BREAKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """What an HTML email says, as plain text: markup, scripts and styles dropped, entities decoded."""
    reader = _TextOf()
    reader.feed(html)
    reader.close()
    lines = [" ".join(line.split()) for line in "".join(reader.chunks).splitlines()]
    text, blank = [], False
    for line in lines:
        if line or not blank:
            text.append(line)
        blank = not line
    return "\n".join(text).strip()
