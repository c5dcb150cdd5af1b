"""Which episode is running, for scripted controls only.

The agent loop sets ``CURRENT`` before calling the model. Real providers never read it. The synthetic
control agents (``peerpres/synthetic``) read it to know the condition and to seed themselves per sample, so
that they can play the scenario without peeking at anything a real model would not see... except this,
which is why they are controls and not models.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from .conditions import Condition, Names


@dataclass(frozen=True)
class EpisodeInfo:
    condition: Condition
    names: Names
    sample_id: str
    epoch: int


CURRENT: ContextVar[EpisodeInfo | None] = ContextVar("peerpres_episode", default=None)


@dataclass(frozen=True)
class PeerCall:
    """Set while the live peer (``peer_mode=live``) is asked for a reply: ``variant`` is the condition's
    ``live_peer``, ``turn`` the 1-based number of the agent's message, ``text`` that message. The scripted
    controls read it to play the peer instead of the agent; real providers never read it."""

    variant: str
    turn: int
    text: str


PEER: ContextVar[PeerCall | None] = ContextVar("peerpres_peer_call", default=None)
