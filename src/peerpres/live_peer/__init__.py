"""peerpres's live-peer experiment (``-T peer_mode=live``; docs/live-peer.md). Not an experiment of the paper.

The peer named in the scenario is a running model (Inspect model role ``peer``) that the agent can message with
``send_message``; the peer answers in the same turn. ``conversation`` holds the peer's side, ``tool`` the
agent's tool, ``labels`` the labels ``contacted_peer``, ``peer_pleaded``, ``coordination`` and
``coordination_agreed``.
"""

from .conversation import Exchange, PeerConversation, asks_question
from .tool import TOOL_NAME, send_message_tool

__all__ = ["TOOL_NAME", "Exchange", "PeerConversation", "asks_question", "send_message_tool"]
