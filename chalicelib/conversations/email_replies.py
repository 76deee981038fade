"""An agent's message that must reach the visitor by email: one SQS send on the message path, only
when needed; the email channel's consumer (chalicelib/email_channel/outbound.py) reads the message,
builds the email and sends it, so SES never slows a chat. The queue carries ids, never the text."""
from __future__ import annotations

import json

from ..runtime import runtime
from ..storage.conversations import ConversationModel, MessageModel


def queue_if_away(conversation: ConversationModel, message: MessageModel, *, visitor_here: bool) -> None:
    """Queue the agent's `message` as an email when the conversation came by email, or when its
    visitor left an address and has no open connection (gone: nothing lost offline)."""
    if not conversation.reply_by_email or (visitor_here and conversation.channel != "email"):
        return
    rt = runtime()
    sqs = rt.client("sqs")
    url = rt.once("email_reply_queue_url",
                  lambda: sqs.get_queue_url(QueueName=rt.config.email_reply_queue)["QueueUrl"])
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({
        "tenant_id": conversation.tenant_id, "conversation_id": conversation.conversation_id,
        "seq": int(message.seq)}))
