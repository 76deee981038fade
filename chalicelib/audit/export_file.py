"""Writing one switchboard.audit.v1 file in chunks, each chunk a fresh Lambda invocation.

Nothing of a chunk survives it but `Progress` (a small JSON value on the export's item) and the S3
multipart upload itself:
- zlib's state cannot be carried, so each chunk is one or more whole gzip members, the last one
  ended at the chunk's end; a file of concatenated members is one valid gzip file (RFC 1952 2.2),
  which the offline verifier and `gzip`/`zcat` read as one stream.
- S3 wants every part but the last at least 5 MiB, so a chunk ends only where a part is full (8 MiB)
  and is sent; the next chunk begins the next part.
- The parts' ETags are not carried (10,000 of them outgrow a DynamoDB item): the finishing step lists
  them from S3 (ListParts) and completes with exactly the parts progress counted.
- hashlib's state cannot be carried either: the finishing step reads the finished object back, streaming,
  for its SHA-256 (constant memory; S3 reads far faster than the export writes).
"""
from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from ..clock import iso
from ..runtime import Budget, runtime
from ..storage.audit import AuditEventModel
from .chain import ALGORITHM, EXPORT, FORMAT, GENESIS, ChainBroken, ChainState
from .signing import audit_signer

PART_BYTES = 8 * 1024 * 1024  # S3 multipart parts (at least 5 MiB except the last)
READ_BYTES = 1024 * 1024  # what the finishing step holds of the object at a time


class KeyChanged(Exception):
    """The audit signing key changed between the header and the trailer: the file could not verify."""


@dataclass
class Progress:
    """Where an export has got to, carried from one invocation to the next on its item."""
    upload_id: str
    generated_at: str  # one moment for the header and the digest: the verifier refuses a header the digest contradicts
    key_id: str  # the key the header names; the trailer must be signed by it
    next_seq: int | None  # the next event to write (None: the range holds no event)
    last_range_seq: int | None  # fixed at the start: events appended later are not this export's
    parts: int = 0  # parts uploaded, numbered 1..parts
    size_bytes: int = 0
    event_count: int = 0
    first_seq: int | None = None
    first_prev_hash: str | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    broken_seq: int | None = None  # the first seq at which the exported events are not an intact chain
    written: bool = False  # the trailer and the last part are uploaded: only completing is left

    @classmethod
    def of(cls, value: dict[str, Any]) -> Progress:
        return cls(**value)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def start_file(key: str, seqs: tuple[int, int] | None) -> Progress:
    """The multipart upload begun, for the events of seqs (first, last) as they stand now."""
    rt = runtime()
    upload_id = rt.client("s3").create_multipart_upload(
        Bucket=rt.config.export_bucket, Key=key, ContentType="application/gzip",
        ContentEncoding="identity")["UploadId"]
    return Progress(upload_id=upload_id, generated_at=iso(rt.clock.utcnow()), key_id=audit_signer().key_id,
                    next_seq=seqs[0] if seqs else None, last_range_seq=seqs[1] if seqs else None)


def _header(tenant_id: str, range_from: str, range_to: str, progress: Progress) -> dict[str, Any]:
    return {"format": FORMAT, "tenant_id": tenant_id, "from": range_from, "to": range_to,
            "generated_at": progress.generated_at, "key_id": progress.key_id}


def write_chunk(tenant_id: str, range_from: str, range_to: str, key: str, progress: Progress,
                budget: Budget) -> Progress:
    """Events from progress.next_seq on, until the range ends (then the signed trailer) or the budget
    is spent at a full part. Returns the progress to carry; S3 holds the parts."""
    stream = _GzipParts(key, progress.upload_id, first_part=progress.parts + 1)
    if progress.parts == 0:
        stream.write_line(_header(tenant_id, range_from, range_to, progress))
    checker = _checker(progress)
    written = 0
    for event in _events(tenant_id, progress):
        if progress.first_seq is None:  # a middle range starts from whatever its first event links to
            progress.first_seq, progress.first_prev_hash = event["seq"], event["prev_hash"]
            checker = ChainState(event["seq"], GENESIS if event["seq"] == 1 else event["prev_hash"])
        if checker is not None and progress.broken_seq is None:
            try:
                checker.accept(event)
            except ChainBroken as err:  # still exported as stored: the auditor must see it
                progress.broken_seq = err.seq
        stream.write_line(event)
        progress.last_seq, progress.last_hash = event["seq"], event["hash"]
        progress.next_seq, progress.event_count, written = event["seq"] + 1, progress.event_count + 1, written + 1
        if stream.part_full():
            if budget.spent(written) and progress.next_seq <= (progress.last_range_seq or 0):  # events are left
                stream.end_member()
                stream.send_part()
                return _after(progress, stream)
            stream.send_part()
    stream.write_line(_trailer(tenant_id, range_from, range_to, progress))
    stream.end_member()
    stream.send_part()
    progress.written = True
    return _after(progress, stream)


def complete_file(key: str, progress: Progress) -> tuple[str, int]:
    """Complete the upload with exactly parts 1..progress.parts, then the object's SHA-256 and size.

    A repeated finishing step (its first run completed the upload, then died) finds the upload gone
    and hashes the object it left."""
    rt = runtime()
    s3, bucket = rt.client("s3"), rt.config.export_bucket
    try:
        parts = _listed_parts(s3, bucket, key, progress)
    except s3.exceptions.NoSuchUpload:
        parts = None
    if parts is not None:
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=progress.upload_id,
                                     MultipartUpload={"Parts": parts})
    sha256, size = hashlib.sha256(), 0
    for block in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(READ_BYTES):
        sha256.update(block)
        size += len(block)
    return sha256.hexdigest(), size


def abort_file(key: str, upload_id: str) -> None:
    rt = runtime()
    rt.client("s3").abort_multipart_upload(Bucket=rt.config.export_bucket, Key=key, UploadId=upload_id)


def _listed_parts(s3: Any, bucket: str, key: str, progress: Progress) -> list[dict[str, Any]]:
    """The ETags of parts 1..progress.parts as S3 holds them (a part a dead invocation sent past the
    committed progress is left out, and so dropped by S3 on completion)."""
    etags: dict[int, str] = {}
    marker = 0
    while True:
        page = s3.list_parts(Bucket=bucket, Key=key, UploadId=progress.upload_id, PartNumberMarker=marker)
        for part in page.get("Parts", []):
            if part["PartNumber"] <= progress.parts:
                etags[part["PartNumber"]] = part["ETag"]
        if not page.get("IsTruncated"):
            break
        marker = page["NextPartNumberMarker"]
    if sorted(etags) != list(range(1, progress.parts + 1)):
        raise RuntimeError(f"S3 holds parts {sorted(etags)[:10]}..., not 1..{progress.parts}")
    return [{"PartNumber": number, "ETag": etags[number]} for number in sorted(etags)]


def _checker(progress: Progress) -> ChainState | None:
    """The chain check resumed where the last chunk left it (none once broken or before the first event)."""
    if progress.broken_seq is not None or progress.last_hash is None or progress.next_seq is None:
        return None
    return ChainState(progress.next_seq, progress.last_hash)


def _events(tenant_id: str, progress: Progress) -> Iterator[dict[str, Any]]:
    if progress.next_seq is None or progress.last_range_seq is None or progress.next_seq > progress.last_range_seq:
        return iter(())
    return (item.as_event() for item in AuditEventModel.query(
        tenant_id, AuditEventModel.seq.between(progress.next_seq, progress.last_range_seq), consistent_read=True))


def _trailer(tenant_id: str, range_from: str, range_to: str, progress: Progress) -> dict[str, Any]:
    """The signed digest of the whole range, from the progress every chunk carried."""
    signer = audit_signer()
    if signer.key_id != progress.key_id:
        raise KeyChanged(f"the header names key {progress.key_id}, the signer is {signer.key_id}")
    # Everything a reader relies on is signed; the header only repeats it (docs/audit.md).
    digest = {"kind": EXPORT, "tenant_id": tenant_id, "from": range_from, "to": range_to,
              "first_seq": progress.first_seq, "first_prev_hash": progress.first_prev_hash,
              "last_seq": progress.last_seq, "last_hash": progress.last_hash,
              "event_count": progress.event_count, "generated_at": progress.generated_at}
    return {"digest": digest, "algorithm": ALGORITHM, "key_id": signer.key_id, "signature": signer.sign(digest)}


def _after(progress: Progress, stream: _GzipParts) -> Progress:
    progress.parts, progress.size_bytes = stream.last_part, progress.size_bytes + stream.size
    return progress


class _GzipParts:
    """JSON lines, gzip-compressed as they come, sent as numbered parts: memory stays about one part."""

    def __init__(self, key: str, upload_id: str, first_part: int) -> None:
        rt = runtime()
        self._s3, self._bucket, self._key, self._upload_id = rt.client("s3"), rt.config.export_bucket, key, upload_id
        self._gzip = zlib.compressobj(level=6, wbits=31)  # wbits 31: gzip framing (no name, mtime 0)
        self._buffer = bytearray()
        self.last_part, self.size = first_part - 1, 0

    def write_line(self, value: dict[str, Any]) -> None:
        self._buffer += self._gzip.compress(json.dumps(value, sort_keys=True, ensure_ascii=False).encode() + b"\n")

    def part_full(self) -> bool:
        return len(self._buffer) >= PART_BYTES

    def end_member(self) -> None:
        self._buffer += self._gzip.flush()

    def send_part(self) -> None:
        # The buffer itself, not a bytes() copy of it (a second part's worth of memory); a new one
        # after, in case the client keeps a reference to the body it sent.
        self._s3.upload_part(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                             PartNumber=self.last_part + 1, Body=self._buffer)
        self.last_part, self.size = self.last_part + 1, self.size + len(self._buffer)
        self._buffer = bytearray()
