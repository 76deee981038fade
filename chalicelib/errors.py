"""Errors in the contract's shape: {"error": {"code", "message"}} with a fitting status."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None,
                 headers: dict[str, str] | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.headers = headers or {}
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class InvalidInput(ApiError):
    status, code = 400, "invalid_input"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Gone(ApiError):
    status, code = 410, "gone"


class TooLarge(ApiError):
    status, code = 413, "payload_too_large"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})


def dependency_failed(exc: BaseException) -> bool:
    """An AWS service (DynamoDB, KMS, ...) failed or throttled us: worth retrying, not the caller's fault."""
    cause = getattr(exc, "cause", None) if isinstance(exc, PynamoDBException) else exc
    return isinstance(cause, (BotoCoreError, ClientError))


def validation_message(errors: list[ErrorDetails]) -> tuple[str, list[dict[str, str]]]:
    """Turn pydantic errors into one sentence naming the field, plus per-field details."""
    details = []
    for err in errors:
        field = ".".join(str(part) for part in err.get("loc", ())) or "body"
        message = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
        details.append({"field": field, "message": message})
    first = details[0] if details else {"field": "body", "message": "is invalid"}
    return f"{first['field']}: {first['message']}", details
