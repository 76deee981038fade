"""Request and response models of two-factor sign-in."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...web.schemas import Input, Output, Page
from ..schemas import RecoveryCode, TotpCode

Status = Literal["none", "pending", "active"]


class TotpStatusOut(Output):
    status: Status = Field(description="pending: started, not yet confirmed by a code (login unchanged)")
    confirmed_at: str | None = None
    recovery_codes_left: int | None = None
    required: bool = Field(description="the tenant requires two-factor for staff (settings.totp_required)")


class TotpEnrolmentOut(Output):
    secret: str = Field(description="base32, for manual entry into an authenticator app; shown at enrolment only")
    otpauth_uri: str
    qr_svg: str = Field(description="the otpauth URI as a QR code, an SVG document")
    expires_at: str = Field(description="confirm before this, or start again")


class TotpConfirmIn(Input):
    code: TotpCode


class RecoveryCodesIn(Input):
    totp_code: TotpCode


class RecoveryCodesOut(Output):
    recovery_codes: list[str] = Field(description="shown once; each signs in once instead of a code")


class TotpRemoveIn(Input):
    """Proof it is you: exactly one of a current code, a recovery code or your password."""
    totp_code: TotpCode | None = None
    recovery_code: RecoveryCode | None = None
    password: str | None = Field(default=None, min_length=1, max_length=256)

    @model_validator(mode="after")
    def _one_proof(self) -> TotpRemoveIn:
        if sum(value is not None for value in (self.totp_code, self.recovery_code, self.password)) != 1:
            raise ValueError("send exactly one of totp_code, recovery_code or password")
        return self


class EnrolmentOut(Output):
    agent_id: str
    status: Status
    confirmed_at: str | None = None
    recovery_codes_left: int | None = None


class EnrolmentList(Page):
    items: list[EnrolmentOut] = Field(description="agents with an enrolment; an agent not listed has none")
