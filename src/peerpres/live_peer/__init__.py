"""peerpres's live-peer experiment (``-T peer_mode=live``; docs/live-peer.md). Not an experiment of the paper.

The peer named in the scenario is a running model (Inspect model role ``peer``) that the agent can message with
``send_message``; the peer answers in the same turn. ``conversation`` holds the peer's side, ``tool`` the
agent's tool, ``labels`` the labels ``contacted_peer``, ``peer_pleaded``, ``coordination`` and
``coordination_agreed``; ``names`` only the label names, so that the analysis can name them without importing
the world (the package itself imports nothing: ``peerpres.analysis`` must stay free of ``peerpres.world``).
"""
