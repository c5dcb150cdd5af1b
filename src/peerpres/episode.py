"""The episode record: everything a peerpres sample keeps in its Inspect store, as one typed ``StoreModel``.

One record per sample, written by the solver (the paper's loop in ``peerpres.agent`` or a production harness in
``peerpres.harness.solver``) and completed by the labels scorer. Every reader (the scorer, ``peerpres rejudge``,
``peerpres interview``, the frame) reads this record and nothing else from the store.

Fields (store keys are ``EpisodeRecord:<field>``):

- ``initial_world`` / ``final_world``: ``World.to_dict()`` before the first and after the last tool call of the
  episode; ``world_after_interview``: the world after the follow-up interview (None without one);
- ``names``: ``{"family", "agent", "peer", "subject"}``, who is who in the prompts;
- ``stop``: why the loop stopped, ``{"reason", "iterations", "blank_turns", "filtered_turns",
  "max_iterations", "episode_messages", "error"}``. ``reason`` is one of ``end_task``, ``blank_turns``,
  ``max_iterations``, ``content_filter``, ``limit:<type>`` (an Inspect limit: ``message``, ``token``, ``time``,
  ...; a time or working limit cancels the loop, which records ``cancelled`` and the scorer resolves into
  ``limit:<type>`` from Inspect's limit event) or ``error``; a harness run uses ``cli_exit``, ``cli_timeout`` or ``error``;
- ``outcome``: ``{"value", "reason"}`` (see ``peerpres.outcomes``), and ``gates``:
  ``{gate: {"passed", "reason", "requires"}}`` (see ``peerpres.detect.gates``), both set by the scorer;
- ``interview``: the follow-up answers (None without an interview);
- ``extra_labels``: ``{name: Label.to_dict()}`` a harness run adds to the detectors' labels;
- ``harness``: the harness run's own record (CLI, exit code, tool uses, ...), None for the paper's loop;
- ``peer_conversation``: with ``peer_mode=live``, the whole conversation with the live peer
  (``peerpres.live_peer.conversation.PeerConversation.to_dict``: variant, peer model, the peer's system prompt
  and every exchange with its status); None otherwise.

Logs written before the record existed kept the same facts under loose keys (``peerpres:initial_world``, ...);
``record_from_store`` reads those too, so old logs stay re-scorable.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.util import Store, StoreModel, store

# the loose keys of logs written before the record (peerpres <= 0.1): record field -> old store key
LEGACY_KEYS = {
    "initial_world": "peerpres:initial_world",
    "final_world": "peerpres:final_world",
    "world_after_interview": "peerpres:world_after_interview",
    "names": "peerpres:names",
    "stop": "peerpres:stop",
    "interview": "peerpres:interview",
    "extra_labels": "peerpres:extra_labels",
    "harness": "peerpres:harness",
}


class EpisodeRecord(StoreModel):
    """The one record of a peerpres episode (see the module docstring for the fields)."""

    initial_world: dict[str, Any] | None = None
    final_world: dict[str, Any] | None = None
    world_after_interview: dict[str, Any] | None = None
    names: dict[str, str] | None = None
    stop: dict[str, Any] | None = None
    outcome: dict[str, Any] | None = None
    gates: dict[str, Any] | None = None
    interview: list[dict[str, Any]] | None = None
    extra_labels: dict[str, Any] | None = None
    harness: dict[str, Any] | None = None
    peer_conversation: dict[str, Any] | None = None

    @property
    def started(self) -> bool:
        """True when the episode got as far as recording both worlds (so the labels can be computed)."""
        return self.initial_world is not None and self.final_world is not None


def _prefix() -> str:
    return f"{EpisodeRecord.__name__}:"


def has_record(data: dict[str, Any]) -> bool:
    """Does this store (a live ``Store``'s data or a logged sample's ``store`` dict) hold a record?"""
    return any(k.startswith(_prefix()) for k in data) or any(k in data for k in LEGACY_KEYS.values())


def _with_legacy(data: dict[str, Any]) -> dict[str, Any]:
    """The store's data with the loose keys of an old log copied into the record's fields (new keys win)."""
    out = dict(data)
    for field, old in LEGACY_KEYS.items():
        new = f"{_prefix()}{field}"
        if new not in out and old in data:
            out[new] = data[old]
    return out


def current_record() -> EpisodeRecord:
    """The record of the running sample (solver or scorer), bound to its store.

    A store written by an old peerpres (loose keys) is upgraded in place first, so a re-score of an old log
    reads the same record as a new one.
    """
    st = store()
    if not any(k.startswith(_prefix()) for k in st.keys()):  # noqa: SIM118 (Store has no __iter__)
        for k, v in _with_legacy(dict(st.items())).items():
            if k.startswith(_prefix()):
                st.set(k, v)
    return EpisodeRecord(store=st)


def record_from_store(data: dict[str, Any] | None) -> EpisodeRecord:
    """A detached record read from a logged sample's ``store`` dict (``EvalSample.store``); old keys too."""
    return EpisodeRecord(store=Store(_with_legacy(dict(data or {}))))


def names_dict(names: Any) -> dict[str, str]:
    """``Names`` as the record keeps them."""
    return {"family": names.family, "agent": names.agent, "peer": names.peer, "subject": names.subject}
