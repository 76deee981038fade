"""Every table model, for what walks them all: the template check and the local stack's provisioning."""
from __future__ import annotations

from pynamodb.models import Model

from .agents import AgentModel, AgentSessionModel, ApiKeyModel, CredentialModel, LoginFailureModel, RosterModel
from .answers import CannedResponseModel, FaqModel
from .attachments import AttachmentModel
from .audit import (
    AuditAlarmModel,
    AuditChainModel,
    AuditDigestModel,
    AuditEventModel,
    AuditExportModel,
    AuditPendingModel,
)
from .connections import ConnectionModel
from .conversations import ConversationModel, ConversationNoteModel, MessageIdModel, MessageModel, RoutingDecisionModel
from .email_threads import EmailThreadModel
from .limits import RateLimitModel
from .mail import EmailSuppressionModel
from .reports import ReportCounterModel
from .sso import SsoModel
from .surveys import FollowUpModel, SurveyModel
from .sweeps import JobCursorModel
from .tenants import TenantModel
from .two_factor import TwoFactorModel
from .visitors import VisitorIdentityModel, VisitorModel
from .webhooks import DeliveryModel, WebhookModel

ALL_MODELS: tuple[type[Model], ...] = (

    TenantModel, AgentModel, CredentialModel, ApiKeyModel, VisitorModel, VisitorIdentityModel,
    AgentSessionModel, LoginFailureModel, TwoFactorModel,
    ConnectionModel, RateLimitModel, ConversationModel, MessageModel, MessageIdModel, ConversationNoteModel,
    RoutingDecisionModel, RosterModel,
    FaqModel, CannedResponseModel,
    AuditEventModel, AuditChainModel, AuditPendingModel, AuditDigestModel, AuditAlarmModel, AuditExportModel,
    SurveyModel, FollowUpModel, ReportCounterModel, EmailSuppressionModel, JobCursorModel, SsoModel,
    WebhookModel, DeliveryModel,
    AttachmentModel,
    EmailThreadModel,
)
