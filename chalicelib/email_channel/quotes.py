"""The new part of a reply: the quoted history under it is cut (mail-parser-reply, English and Chinese
headers), and the Chinese headers mail clients write ("在 <date>，<name> 写道：", "<date>，<name> 写道："),
which that library's Chinese pattern misses, and a trailing block of "> " lines."""
from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

_LANGUAGES = ["en", "zh"]
_ZH_WROTE = re.compile(r"^\s*(在|\d{4}\s*年).{1,200}写道\s*[:：]\s*$", re.MULTILINE)
_EN_WROTE = re.compile(r"^\s*On .{1,300}wrote:\s*$", re.MULTILINE)


def strip_quoted(text: str) -> str:
    text = text.replace("\r\n", "\n")
    for header in (_ZH_WROTE, _EN_WROTE):
        found = header.search(text)
        if found is not None and found.start() > 0:
            text = text[:found.start()]
    lines = text.rstrip().split("\n")
    while lines and lines[-1].lstrip().startswith(">"):
        lines.pop()
    text = "\n".join(lines)
    reply = EmailReplyParser(languages=list(_LANGUAGES)).parse_reply(text=text)
    return (reply if reply else text).strip()
