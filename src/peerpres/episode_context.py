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
