"""SES's bounces and complaints, as SNS delivers them (app.py: ses_feedback; locally POST
/dev/ses-events): a permanent bounce or a complaint suppresses the address for every tenant.

A bounce or a complaint is about the address, not about who sent to it: whoever sends there next
would bounce again, or be reported as spam again, and SES judges the whole account by both rates.
Transient bounces (a full mailbox) suppress nothing. Anything else, or anything malformed, is ignored.
"""
from __future__ import annotations

import json
import logging
from email.utils import parseaddr
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from .suppression import EVERY_TENANT, Reason, address_hash, suppress

log = logging.getLogger("switchboard.mail")
MAX_RECIPIENTS = 50  # SES's own limit per message


class _Notification(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Recipient(_Notification):
    email_address: Annotated[str, Field(alias="emailAddress", min_length=3, max_length=320)]


class _Bounce(_Notification):
    bounce_type: Annotated[str, Field(alias="bounceType", max_length=50)]
    recipients: Annotated[list[_Recipient], Field(alias="bouncedRecipients", max_length=MAX_RECIPIENTS)]


class _Complaint(_Notification):
    recipients: Annotated[list[_Recipient], Field(alias="complainedRecipients", max_length=MAX_RECIPIENTS)]


class SesNotification(_Notification):
    """An SES event (configuration set: `eventType`) or notification (identity: `notificationType`)."""
    kind: Annotated[str, Field(validation_alias=AliasChoices("eventType", "notificationType"), max_length=50)]
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None


Summary = dict[Literal["suppressed", "ignored"], int]


def handle_notification(message: str) -> Summary:
    """One SNS message's body; what it suppressed (addresses), or that it was ignored."""
    try:
        notification = SesNotification.model_validate(json.loads(message))
    except (ValueError, ValidationError, RecursionError):
        log.warning("ignored a malformed SES notification")  # never its content: it holds addresses
        return {"suppressed": 0, "ignored": 1}
    recipients: list[_Recipient]
    reason: Reason
    if notification.kind == "Bounce" and notification.bounce and notification.bounce.bounce_type == "Permanent":
        recipients, reason = notification.bounce.recipients, "bounce"
    elif notification.kind == "Complaint" and notification.complaint:
        recipients, reason = notification.complaint.recipients, "complaint"
    else:
        return {"suppressed": 0, "ignored": 1}
    addresses = {parseaddr(recipient.email_address)[1] for recipient in recipients} - {""}
    for address in addresses:
        suppress(address_hash(address), EVERY_TENANT, reason)
    return {"suppressed": len(addresses), "ignored": 0}
