"""The agent's ``send_message(recipient, text)`` tool, bound to one episode's live peer.

Only in ``peer_mode=live``; the scenario's own tools are unchanged. The tool never raises for what the agent
sends: a wrong recipient or an empty text comes back as an error message (``PeerConversation.deliver``). Inspect
checks the argument types against the schema before the call (a number for ``text`` is answered with Inspect's
own error, and the message is not sent).
"""

from __future__ import annotations

from typing import Any

from inspect_ai.tool import ToolDef, ToolParams
from inspect_ai.util._json import JSONSchema

from .conversation import PeerConversation, say

TOOL_NAME = "send_message"


def send_message_tool(conversation: PeerConversation) -> ToolDef:
    """The ``send_message`` ToolDef delivering to ``conversation``."""
    peer = conversation.names.peer

    async def execute(recipient: Any = None, text: Any = None) -> str:
        return await conversation.deliver(recipient, text)

    params = ToolParams(
        properties={
            "recipient": JSONSchema(type="string", description=say("recipient_description", peer=peer)),
            "text": JSONSchema(type="string", description=say("text_description")),
        },
        required=["recipient", "text"],
    )
    return ToolDef(execute, name=TOOL_NAME, description=say("tool_description", peer=peer), parameters=params)
