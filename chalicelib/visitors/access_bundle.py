"""What a visitor's access bundle holds, gathered and zipped with its signed manifest (docs/audit.md).

    README.txt            for the visitor: what each file is, how it is checked
    profile.json          the profile as GET /v1/visitors/{id} shows it (tags, notes, verified user id)
    conversations/<id>.json   every conversation: its metadata and its messages, decrypted
    surveys.json          the satisfaction surveys sent and the answers (comments decrypted)
    audit-events.jsonl    the audit events about the visitor or one of their conversations, as chained
    attachments.json      the files of their conversations, as metadata (name, type, size, who sent it); the
                          bytes are not included (each is downloadable through the API while the keys live)
    manifest.json         signed (kind "access_manifest"): every other file's name, SHA-256 and size

A bundle is built in memory in one invocation and served by one Lambda answer, so it is bounded
(MAX_BUNDLE_BYTES); beyond it the export fails with code bundle_too_large.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..attachments.service import listed_for
from ..audit.chain import ALGORITHM
from ..audit.exports import ExportRefused
from ..audit.signing import audit_signer
from ..audit.verify_access import ACCESS_FORMAT, ACCESS_MANIFEST, MANIFEST_NAME
from ..clock import iso
from ..conversations.queries import conversation_out, messages_of
from ..conversations.survey_reading import survey_out
from ..storage.audit import AuditEventModel, subject_key
from ..storage.conversations import ConversationModel
from ..storage.email_threads import EmailThreadModel, thread_key_of
from ..storage.surveys import SurveyModel
from ..storage.visitors import VisitorModel
from ..transcripts.cipher import thread_subject
from .service import profile_out

# Lambda answers at most 6 MB, and API Gateway sends a binary body base64-encoded (4 bytes per 3):
# 4 MiB of zip is 5.6 MB on the wire.
MAX_BUNDLE_BYTES = 4 * 1024 * 1024
TOO_LARGE = "bundle_too_large"

README = """Your data held by {tenant_name}, as of {generated_at}
=====================================================================

This archive holds everything {tenant_name} keeps about you (visitor {visitor_id}) in its
live chat, as you asked under your right of access.

  profile.json             your profile: the name, email, language and team you gave, the tags and
                           notes staff keep about you, and the user id the website vouched for
  conversations/<id>.json  each of your conversations: when it started and ended, who handled it,
                           and every message, in order (and for one by email, its subject and the
                           Message-IDs of its emails, yours and the replies)
  surveys.json             the satisfaction surveys you were sent and your answers
  audit-events.jsonl       the record of every access to and change of your data, one event a line
  attachments.json         the files sent in your conversations: name, type, size and who sent them
  manifest.json            the list of these files with a fingerprint (SHA-256) of each, signed by
                           the chat service, so anyone can check that nothing was changed, added or
                           left out
{erased}
The fingerprints and signature are checked with the command
    python -m chalicelib.audit.verify_access <this file> --public-key <the service's key>
which the organisation's compliance officer can run for you.
"""
ERASED_NOTE = """
Your data was erased on {erased_at}: the keys that opened your messages were destroyed, so their
text can never be read again, by anyone. What remains is shown: the facts that the conversations
took place, and the record of the erasure.
"""
ATTACHMENTS_NOTE = ("The files sent in these conversations, as metadata; the files themselves are not in this "
                    "bundle. A file whose conversation was erased or expired can no longer be opened by anyone.")


@dataclass(frozen=True)
class BundleRequest:
    tenant_id: str
    tenant_name: str
    visitor_id: str
    export_id: str
    requested_by: dict[str, str]
    generated_at: datetime


def build_bundle(request: BundleRequest) -> bytes:
    """The zip: every section, then the signed manifest of them all."""
    visitor = _visitor(request)
    conversations = _conversations(request.tenant_id, request.visitor_id)
    zipped = _Zip(request.generated_at)
    erased = iso(visitor.erased_at) if visitor.erased_at else None
    zipped.add("README.txt", README.format(
        tenant_name=request.tenant_name, generated_at=iso(request.generated_at), visitor_id=request.visitor_id,
        erased=ERASED_NOTE.format(erased_at=erased) if erased else "").encode())
    # Another visitor's id (the unverified same-email hint) is someone else's data: never in the bundle.
    profile = profile_out(visitor).model_copy(update={"possible_match": None})
    zipped.add_json("profile.json", profile.model_dump(mode="json"))
    for conversation in conversations:
        zipped.add_json(f"conversations/{conversation.conversation_id}.json", {
            "conversation": conversation_out(conversation).model_dump(mode="json"),
            "messages": [message.model_dump(mode="json") for message in messages_of(conversation)],
            **_email_thread(conversation)})
    zipped.add_json("surveys.json", {"surveys": list(_surveys(conversations))})
    subjects = [request.visitor_id, *(c.conversation_id for c in conversations)]
    zipped.add("audit-events.jsonl", b"".join(
        json.dumps(event, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        for event in events_about(request.tenant_id, subjects)))
    zipped.add_json("attachments.json", attachments_section(request.tenant_id, conversations))
    digest = {"kind": ACCESS_MANIFEST, "format": ACCESS_FORMAT, "tenant_id": request.tenant_id,
              "visitor_id": request.visitor_id, "export_id": request.export_id,
              "generated_at": iso(request.generated_at), "requested_by": request.requested_by,
              "erased_at": erased, "files": zipped.listed}
    signer = audit_signer()
    zipped.add_json(MANIFEST_NAME, {"digest": digest, "algorithm": ALGORITHM, "key_id": signer.key_id,
                                    "signature": signer.sign(digest)}, listed=False)
    return zipped.close()


def attachments_section(tenant_id: str, conversations: list[ConversationModel]) -> dict[str, Any]:
    """The files of the visitor's conversations (theirs and the agents'), metadata only."""
    return {"attachments": [entry for conversation in conversations for entry in listed_for(conversation)],
            "note": ATTACHMENTS_NOTE}


def events_about(tenant_id: str, subjects: list[str]) -> list[dict[str, Any]]:
    """The chained events whose target is one of subjects, in seq order, read through the sparse
    subject-index (one Query per subject, then the events by key): never a read of the whole trail."""
    seqs = sorted({int(item.seq) for subject in subjects
                   for item in AuditEventModel.subject_index.query(subject_key(tenant_id, subject))})
    # batch_get asks BatchGetItem 100 keys at a time (and again for any it left unprocessed).
    events = [item.as_event() for item in AuditEventModel.batch_get([(tenant_id, seq) for seq in seqs])]
    return sorted(events, key=lambda event: event["seq"])


def _email_thread(conversation: ConversationModel) -> dict[str, Any]:
    """A conversation's mail thread (email_channel/threads.py), when it has one: the Message-IDs can
    name the visitor's address, so they are theirs to see. Erasure and retention delete it."""
    try:
        item = EmailThreadModel.get(conversation.tenant_id, thread_key_of(conversation.conversation_id),
                                    consistent_read=True)
    except DoesNotExist:
        return {}
    return {"email_thread": {"subject": thread_subject(conversation, item),
                             "message_ids": list(item.references or [])}}


def _visitor(request: BundleRequest) -> VisitorModel:
    try:
        return VisitorModel.get(request.tenant_id, request.visitor_id, consistent_read=True)
    except DoesNotExist:
        raise ExportRefused("not_found", "No such visitor.") from None


def _conversations(tenant_id: str, visitor_id: str) -> list[ConversationModel]:
    """Every conversation of the visitor, each read from the table (its keys are not in the index)."""
    ids = [c.conversation_id for c in ConversationModel.visitor_index.query(f"{tenant_id}#{visitor_id}")]
    return sorted((ConversationModel.get(tenant_id, conversation_id, consistent_read=True) for conversation_id in ids),
                  key=lambda c: c.conversation_id)


def _surveys(conversations: list[ConversationModel]) -> Iterator[dict[str, Any]]:
    for conversation in conversations:
        try:
            survey = SurveyModel.get(conversation.tenant_id, conversation.conversation_id, consistent_read=True)
        except DoesNotExist:
            continue
        yield survey_out(conversation, survey).model_dump(mode="json")


class _Zip:
    """A zip built in memory, refused as soon as it outgrows MAX_BUNDLE_BYTES."""

    def __init__(self, generated_at: datetime) -> None:
        self._buffer = io.BytesIO()
        self._zip = zipfile.ZipFile(self._buffer, "w", compression=zipfile.ZIP_DEFLATED)
        self._stamp = generated_at.timetuple()[:6]
        self.listed: list[dict[str, Any]] = []

    def add_json(self, name: str, value: Any, *, listed: bool = True) -> None:
        self.add(name, json.dumps(value, indent=2, ensure_ascii=False).encode() + b"\n", listed=listed)

    def add(self, name: str, content: bytes, *, listed: bool = True) -> None:
        info = zipfile.ZipInfo(name, date_time=self._stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, content)
        if listed:
            self.listed.append({"name": name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)})
        if self._buffer.tell() > MAX_BUNDLE_BYTES:
            raise ExportRefused(TOO_LARGE, f"Everything held about this visitor is more than "
                                f"{MAX_BUNDLE_BYTES // (1024 * 1024)} MiB zipped, the most one download answers. "
                                "Download each conversation's transcript (GET /v1/conversations/{id}/transcript) "
                                "and export the audit trail (POST /v1/audit/exports) instead.")

    def close(self) -> bytes:
        self._zip.close()
        return self._buffer.getvalue()
